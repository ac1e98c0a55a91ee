/* The rankings of agg:Q:rank:goal:<goal>, and the two answers built on them: one
 * region with its rank in each goal, one goal with its ranking of the regions. */
#include <stdlib.h>
#include <string.h>

#include "agg/record.h"
#include "endpoint.h"

typedef struct {
    const char *code;
    long long score;
} ranked_t;

static int ranked_cmp(const void *x, const void *y) {
    const ranked_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* The ranking of a rank:goal sorted set: best first, equal averages share a rank
 * (1, 2, 2, 4) and are listed by code. Array of {rank, code, completion_avg,
 * completion_avg_x100}; *count gets its length. NULL when out of memory. */
static json_t *ranking_of(const redisReply *z, size_t *count) {
    *count = 0;
    json_t *arr = json_array();
    if (!arr || z->type != REDIS_REPLY_ARRAY)
        return arr;
    size_t n = z->elements / 2;
    ranked_t *v = calloc(n + 1, sizeof *v);
    if (!v) {
        json_decref(arr);
        return NULL;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        long long s;
        if (z->element[2 * i]->type == REDIS_REPLY_STRING &&
            dash_score_of(z->element[2 * i + 1], &s) == 0)
            v[m++] = (ranked_t){z->element[2 * i]->str, s};
    }
    qsort(v, m, sizeof *v, ranked_cmp);
    bool ok = true;
    size_t rank = 0;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || v[i].score != v[i - 1].score)
            rank = i + 1;
        char avg[32];
        ok = ok && dash_x100_format(v[i].score, avg, sizeof avg) > 0;
        dash_push(arr,
                  json_pack("{s:i,s:s,s:s,s:I}", "rank", (int)rank, "code", v[i].code,
                            "completion_avg", avg, "completion_avg_x100",
                            (json_int_t)v[i].score),
                  &ok);
    }
    free(v);
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    *count = m;
    return arr;
}

static json_t *rank_entry(json_t *ranking, const char *code) {
    size_t i;
    json_t *e;
    json_array_foreach(ranking, i, e) {
        const char *c = json_string_value(json_object_get(e, "code"));
        if (c && strcmp(c, code) == 0)
            return e;
    }
    return NULL;
}

/* ---- /quarters/Q/regions/R ---- */

void dash_api_region(dash_ctx_t *ctx, dash_quarter_t *q, const char *code,
                     dash_result_t *res) {
    char why[128];
    const dash_qregion_t *rg = NULL;
    if (agg_check_region(code, strlen(code), why, sizeof why) == 0)
        rg = dash_find_region(q, code);
    if (!rg) {
        dash_result_error(res, 404, "unknown_region",
                          "region %.40s is neither expected nor reported in %s", code,
                          q->id);
        return;
    }
    size_t n = 1 + 2 * q->ngoals;
    dash_cmd_t *cmds = dash_cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = dash_add_scope(ctx, q, cmds, &c, code, NULL);
    for (size_t g = 0; g < q->ngoals; g++) {
        bad |= dash_add_scope(ctx, q, cmds, &c, code, q->goals[g]);
        bad |= dash_add_rank(ctx, q, cmds, &c, q->goals[g]);
    }
    redisReply *s = dash_run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    json_t *b = json_object(), *goals = json_array();
    dash_put(b, "quarter", json_string(q->id), &ok);
    dash_put(b, "region", dash_region_json(rg), &ok);
    dash_put(b, "reported", json_boolean(rg->reported), &ok);
    dash_put(b, "last_submitted_ms", dash_int_or_null(rg->reported, rg->last_ms), &ok);
    dash_put(b, "first_submitted_ms", dash_int_or_null(rg->has_first, rg->first_ms), &ok);
    dash_put(b, "scope", dash_scope_of(s->element[0], res, &ok), &ok);
    for (size_t g = 0; g < q->ngoals; g++) {
        json_t *scope = dash_scope_of(s->element[1 + 2 * g], res, &ok);
        if (json_is_null(scope)) {
            json_decref(scope); /* no row of this goal in the region */
            continue;
        }
        size_t ranked = 0;
        json_t *ranking = ranking_of(s->element[2 + 2 * g], &ranked);
        json_t *mine = ranking ? rank_entry(ranking, code) : NULL;
        json_t *gj = dash_goal_json(ctx, q->goals[g]);
        dash_put(gj, "scope", scope, &ok);
        dash_put(gj, "rank",
                 mine ? json_incref(json_object_get(mine, "rank")) : json_null(), &ok);
        dash_put(gj, "ranked", json_integer((json_int_t)ranked), &ok);
        ok = ok && ranking;
        json_decref(ranking);
        dash_push(goals, gj, &ok);
    }
    dash_put(b, "goals", goals, &ok);
    freeReplyObject(s);
    dash_answer(res, b, ok, DASH_TABLE_REGION);
}

/* ---- /quarters/Q/goals/G ---- */

void dash_api_goal(dash_ctx_t *ctx, dash_quarter_t *q, const char *code,
                   dash_result_t *res) {
    const char *goal = NULL;
    for (size_t g = 0; g < q->ngoals; g++)
        if (strcmp(q->goals[g], code) == 0)
            goal = q->goals[g];
    if (!goal) {
        dash_result_error(res, 404, "unknown_goal", "goal %.40s has no rows in %s", code,
                          q->id);
        return;
    }
    size_t n = 2 + q->nreported;
    dash_cmd_t *cmds = dash_cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = dash_add_scope(ctx, q, cmds, &c, NULL, goal);
    bad |= dash_add_rank(ctx, q, cmds, &c, goal);
    for (size_t r = 0; r < q->nregions; r++)
        if (q->regions[r].reported)
            bad |= dash_add_scope(ctx, q, cmds, &c, q->regions[r].code, goal);
    redisReply *s = dash_run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    size_t ranked = 0;
    json_t *b = json_object();
    json_t *ranking = ranking_of(s->element[1], &ranked);
    dash_put(b, "quarter", json_string(q->id), &ok);
    dash_put(b, "goal", dash_goal_json(ctx, goal), &ok);
    dash_put(b, "scope", dash_scope_of(s->element[0], res, &ok), &ok);
    /* Ranked regions in rank order, then those with rows but nothing assessed. */
    size_t e = 2, i;
    json_t *entry;
    json_t *unranked = json_array();
    for (size_t r = 0; r < q->nregions; r++) {
        const dash_qregion_t *rg = &q->regions[r];
        if (!rg->reported)
            continue;
        json_t *scope = dash_scope_of(s->element[e++], res, &ok);
        if (json_is_null(scope)) {
            json_decref(scope);
            continue;
        }
        json_t *mine = ranking ? rank_entry(ranking, rg->code) : NULL;
        if (mine) {
            json_t *ref = dash_region_json(rg);
            dash_put(mine, "name_mn", json_incref(json_object_get(ref, "name_mn")), &ok);
            dash_put(mine, "name_en", json_incref(json_object_get(ref, "name_en")), &ok);
            json_decref(ref);
            dash_put(mine, "scope", scope, &ok);
        } else {
            json_t *rj = dash_region_json(rg);
            dash_put(rj, "rank", json_null(), &ok);
            dash_put(rj, "scope", scope, &ok);
            dash_push(unranked, rj, &ok);
        }
    }
    json_t *list = json_array();
    json_array_foreach(ranking, i, entry) {
        if (!json_object_get(entry, "scope"))
            continue; /* ranked but no scope: a region outside this snapshot's lists */
        dash_push(list, json_incref(entry), &ok);
    }
    json_array_foreach(unranked, i, entry) dash_push(list, json_incref(entry), &ok);
    json_decref(unranked);
    json_decref(ranking);
    ok = ok && ranking;
    dash_put(b, "ranked", json_integer((json_int_t)ranked), &ok);
    dash_put(b, "regions", list, &ok);
    freeReplyObject(s);
    dash_answer(res, b, ok, DASH_TABLE_GOAL);
}
