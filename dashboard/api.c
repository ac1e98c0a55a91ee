/* The JSON API over the public keys of SPEC 6/8. Every endpoint reads in at most two
 * MULTI/EXEC snapshots: first the quarter's lists (regions, goals, state), then the
 * scope hashes they name, all in one step, so the figures of one answer agree with
 * each other (the national total is the sum of the regions shown beside it).
 *
 *   /quarters                         quarters, newest first, with their close status
 *   /quarters/Q                       status, the national total, counts
 *   /quarters/Q/matrix                regions x goals (the heat map)
 *   /quarters/Q/regions/R             one region, per goal, with its rank in each
 *   /quarters/Q/goals/G               one goal, its ranking of the regions
 *   /quarters/Q/completeness          who reported, who is missing, who was late */
#include <stdlib.h>
#include <string.h>

#include "agg/keys.h"
#include "endpoint.h"

#define MAX_QUARTERS 1024 /* listed by /quarters, the newest ones past it */

/* ---- /quarters ---- */

static void api_quarters(dash_ctx_t *ctx, dash_result_t *res) {
    char kq[AGG_KEY_MAX];
    if (agg_key_quarters(kq, sizeof kq, ctx->conf->key_prefix) < 0) {
        dash_result_error(res, 500, "internal", "key name too long");
        return;
    }
    dash_cmd_t c;
    dash_cmd(&c, 5, "ZRANGE", kq, "0", "-1", "WITHSCORES");
    redisReply *list = dash_snapshot2(ctx, &c, 1, res);
    if (!list)
        return;
    const redisReply *z = list->element[0];
    size_t n = z->type == REDIS_REPLY_ARRAY ? z->elements / 2 : 0;
    /* Past the bound only the newest MAX_QUARTERS are listed. */
    size_t from = n > MAX_QUARTERS ? n - MAX_QUARTERS : 0;
    n -= from;
    dash_cmd_t *cmds = calloc(n + 1, sizeof *cmds);
    char(*keys)[AGG_KEY_MAX] = calloc(n + 1, sizeof *keys);
    redisReply *st = NULL;
    bool ok = cmds && keys;
    for (size_t i = 0; ok && i < n; i++) {
        const redisReply *m = z->element[2 * (from + i)];
        ok = m->type == REDIS_REPLY_STRING &&
             agg_key_state(keys[i], sizeof keys[i], ctx->conf->key_prefix, m->str) > 0;
        if (ok)
            dash_cmd(&cmds[i], 5, "HMGET", keys[i], "status", "summary_revision",
                     "closed_ms");
    }
    if (!ok) {
        dash_result_error(res, 500, "internal", "out of memory or bad quarter id");
        goto out;
    }
    if (n && !(st = dash_snapshot2(ctx, cmds, n, res)))
        goto out;
    json_t *arr = json_array();
    /* Newest first: the selector's default is the first entry. */
    for (size_t k = n; k-- > 0;) {
        const redisReply *h = st->element[k];
        const char *f[3] = {NULL, NULL, NULL};
        if (h->type == REDIS_REPLY_ARRAY && h->elements == 3)
            for (int j = 0; j < 3; j++)
                if (h->element[j]->type == REDIS_REPLY_STRING)
                    f[j] = h->element[j]->str;
        long long rev = 0, closed = 0;
        bool has_rev = f[1] && dash_parse_ll(f[1], strlen(f[1]), &rev) == 0;
        bool has_closed = f[2] && dash_parse_ll(f[2], strlen(f[2]), &closed) == 0;
        dash_push(arr,
                  json_pack("{s:s,s:s,s:o,s:o}", "quarter", z->element[2 * (from + k)]->str,
                            "status", f[0] ? f[0] : "open", "summary_revision",
                            dash_int_or_null(has_rev, rev), "closed_ms",
                            dash_int_or_null(has_closed, closed)),
                  &ok);
    }
    res->body =
        json_pack("{s:o,s:o}", "quarters", arr, "latest",
                  n ? json_string(z->element[2 * (from + n - 1)]->str) : json_null());
    if (!ok || !res->body) {
        dash_result_error(res, 500, "internal", "out of memory");
        goto out;
    }
    res->status = 200;
    res->table = DASH_TABLE_QUARTERS;
out:
    if (st)
        freeReplyObject(st);
    freeReplyObject(list);
    free(cmds);
    free(keys);
}

/* ---- /quarters/Q ---- */

static void api_quarter(dash_ctx_t *ctx, dash_quarter_t *q, dash_result_t *res) {
    dash_cmd_t cmd;
    size_t n = 0;
    if (dash_keys_alloc(q, 1, res) || dash_add_scope(ctx, q, &cmd, &n, NULL, NULL)) {
        if (!res->body)
            dash_result_error(res, 500, "internal", "key name too long");
        return;
    }
    redisReply *s = dash_snapshot2(ctx, &cmd, 1, res);
    if (!s)
        return;
    bool ok = true;
    json_t *b = json_object(), *goals = json_array();
    dash_put(b, "quarter", json_string(q->id), &ok);
    dash_put(b, "state", dash_state_json(q, &ok), &ok);
    dash_put(b, "total", dash_scope_of(s->element[0], res, &ok), &ok);
    dash_put(b, "regions_expected", json_integer((json_int_t)ctx->ref->expected.count),
             &ok);
    dash_put(b, "regions_reported", json_integer((json_int_t)q->nreported), &ok);
    for (size_t i = 0; i < q->ngoals; i++)
        dash_push(goals, json_string(q->goals[i]), &ok);
    dash_put(b, "goals", goals, &ok);
    freeReplyObject(s);
    dash_answer(res, b, ok, DASH_TABLE_QUARTER);
}

/* ---- /quarters/Q/matrix ---- */

static void api_matrix(dash_ctx_t *ctx, dash_quarter_t *q, dash_result_t *res) {
    /* total, each goal, each region, each reported region x goal */
    size_t n = 1 + q->ngoals + q->nregions + q->nreported * q->ngoals;
    dash_cmd_t *cmds = dash_cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = dash_add_scope(ctx, q, cmds, &c, NULL, NULL);
    for (size_t g = 0; g < q->ngoals; g++)
        bad |= dash_add_scope(ctx, q, cmds, &c, NULL, q->goals[g]);
    for (size_t r = 0; r < q->nregions; r++) {
        bad |= dash_add_scope(ctx, q, cmds, &c, q->regions[r].code, NULL);
        if (q->regions[r].reported)
            for (size_t g = 0; g < q->ngoals; g++)
                bad |= dash_add_scope(ctx, q, cmds, &c, q->regions[r].code, q->goals[g]);
    }
    redisReply *s = dash_run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    size_t e = 0;
    json_t *b = json_object(), *goals = json_array(), *regions = json_array();
    dash_put(b, "quarter", json_string(q->id), &ok);
    dash_put(b, "total", dash_scope_of(s->element[e++], res, &ok), &ok);
    for (size_t g = 0; g < q->ngoals; g++) {
        json_t *gj = dash_goal_json(ctx, q->goals[g]);
        dash_put(gj, "scope", dash_scope_of(s->element[e++], res, &ok), &ok);
        dash_push(goals, gj, &ok);
    }
    for (size_t r = 0; r < q->nregions; r++) {
        const dash_qregion_t *rg = &q->regions[r];
        json_t *rj = dash_region_json(rg), *cells = json_object();
        dash_put(rj, "reported", json_boolean(rg->reported), &ok);
        dash_put(rj, "scope", dash_scope_of(s->element[e++], res, &ok), &ok);
        if (rg->reported) {
            for (size_t g = 0; g < q->ngoals; g++) {
                json_t *cell = dash_scope_of(s->element[e++], res, &ok);
                if (json_is_null(cell))
                    json_decref(cell); /* the region has no row of this goal */
                else
                    dash_put(cells, q->goals[g], cell, &ok);
            }
        }
        dash_put(rj, "goals", cells, &ok);
        dash_push(regions, rj, &ok);
    }
    dash_put(b, "goals", goals, &ok);
    dash_put(b, "regions", regions, &ok);
    freeReplyObject(s);
    dash_answer(res, b, ok, DASH_TABLE_MATRIX);
}

/* ---- routing ---- */

#define MAX_SEGMENTS 5

/* Splits "/a/b/c" into segments (no empty ones, no "." or ".."): -1 when malformed. */
static int split(char *path, char **seg, size_t *n) {
    *n = 0;
    for (char *p = strtok(path, "/"); p; p = strtok(NULL, "/")) {
        if (*n == MAX_SEGMENTS)
            return -1;
        seg[(*n)++] = p;
    }
    return 0;
}

void dash_api(dash_ctx_t *ctx, const char *path, dash_result_t *res) {
    memset(res, 0, sizeof *res);
    char buf[256];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        dash_result_error(res, 414, "uri_too_long", "path longer than %zu bytes",
                          sizeof buf - 1);
        return;
    }
    memcpy(buf, path, len + 1);
    char *seg[MAX_SEGMENTS];
    size_t n;
    if (split(buf, seg, &n) == 0 && n == 1 && strcmp(seg[0], "config") == 0) {
        /* What the page needs to know of the server's settings. */
        res->body = json_pack("{s:I,s:s}", "poll_ms", (json_int_t)ctx->conf->poll_ms,
                              "key_prefix", ctx->conf->key_prefix);
        res->status = res->body ? 200 : 500;
        return;
    }
    if (n == 0 || strcmp(seg[0], "quarters") != 0) {
        dash_result_error(res, 404, "not_found", "no such endpoint (see the README)");
        return;
    }
    if (n == 1) {
        api_quarters(ctx, res);
        return;
    }
    bool shape =
        n == 2 ||
        (n == 3 &&
         (strcmp(seg[2], "matrix") == 0 || strcmp(seg[2], "completeness") == 0)) ||
        (n == 4 && (strcmp(seg[2], "regions") == 0 || strcmp(seg[2], "goals") == 0));
    if (!shape) {
        dash_result_error(res, 404, "not_found", "no such endpoint (see the README)");
        return;
    }
    dash_quarter_t q;
    if (dash_quarter_load(ctx, seg[1], &q, res) != 0)
        return;
    if (n == 2)
        api_quarter(ctx, &q, res);
    else if (n == 3 && strcmp(seg[2], "matrix") == 0)
        api_matrix(ctx, &q, res);
    else if (n == 3)
        dash_api_completeness(ctx, &q, res);
    else if (strcmp(seg[2], "regions") == 0)
        dash_api_region(ctx, &q, seg[3], res);
    else
        dash_api_goal(ctx, &q, seg[3], res);
    dash_quarter_free(&q);
}
