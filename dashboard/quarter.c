/* One quarter's lists, read in the first snapshot of an answer (its state, the regions
 * that reported, the goals), and the second snapshot they are used to build: the scope
 * hashes and rankings an endpoint names, read in one MULTI/EXEC. */
#include <stdlib.h>
#include <string.h>

#include "agg/keys.h"
#include "agg/period.h"
#include "endpoint.h"

/* Bounds on what one answer may hold: far above the 30 regions and ~13 goals of the
 * reference lists, low enough that a corrupted key cannot make a request build an
 * answer of unbounded size. */
#define MAX_REGIONS 1024
#define MAX_GOALS 256

/* ---- goal order ---- */

int dash_goal_cmp(const char *a, const char *b) {
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            /* Compare digit runs as numbers: by length without leading zeros, then by
             * text (no overflow whatever their length). */
            while (*a == '0' && a[1] >= '0' && a[1] <= '9')
                a++;
            while (*b == '0' && b[1] >= '0' && b[1] <= '9')
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int goal_qsort_cmp(const void *x, const void *y) {
    return dash_goal_cmp(*(const char *const *)x, *(const char *const *)y);
}

/* ---- the lists ---- */

void dash_quarter_free(dash_quarter_t *q) {
    if (q->snap)
        freeReplyObject(q->snap);
    free(q->regions);
    free(q->goals);
    free(q->keys);
    memset(q, 0, sizeof *q);
}

const char *dash_state_field(const dash_quarter_t *q, const char *name) {
    const redisReply *s = q->state;
    if (!s || s->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < s->elements; i += 2)
        if (s->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(s->element[i]->str, name) == 0 &&
            s->element[i + 1]->type == REDIS_REPLY_STRING)
            return s->element[i + 1]->str;
    return NULL;
}

bool dash_state_int(const dash_quarter_t *q, const char *name, long long *v) {
    const char *s = dash_state_field(q, name);
    return s && dash_parse_ll(s, strlen(s), v) == 0;
}

dash_qregion_t *dash_find_region(dash_quarter_t *q, const char *code) {
    for (size_t i = 0; i < q->nregions; i++)
        if (strcmp(q->regions[i].code, code) == 0)
            return &q->regions[i];
    return NULL;
}

int dash_score_of(const redisReply *s, long long *v) {
    return s->type == REDIS_REPLY_STRING ? dash_parse_ll(s->str, s->len, v) : -1;
}

static int region_code_cmp(const void *x, const void *y) {
    return strcmp(((const dash_qregion_t *)x)->code, ((const dash_qregion_t *)y)->code);
}

/* Reads the quarter's lists. Returns 0, or -1 with res set (404 for an unknown
 * quarter, 503 when Redis is down). */
int dash_quarter_load(dash_ctx_t *ctx, const char *id, dash_quarter_t *q,
                      dash_result_t *res) {
    memset(q, 0, sizeof *q);
    size_t idlen = strlen(id);
    if (agg_quarter_parse(id, idlen, &q->year, &q->quarter) != 0) {
        dash_result_error(res, 400, "bad_quarter", "a quarter is written like 2024-Q2");
        return -1;
    }
    memcpy(q->id, id, idlen + 1);
    const char *p = ctx->conf->key_prefix;
    char kq[AGG_KEY_MAX], ks[AGG_KEY_MAX], kr[AGG_KEY_MAX], kg[AGG_KEY_MAX],
        kf[AGG_KEY_MAX + 8];
    if (agg_key_quarters(kq, sizeof kq, p) < 0 || agg_key_state(ks, sizeof ks, p, id) < 0 ||
        agg_key_regions(kr, sizeof kr, p, id) < 0 ||
        agg_key_goals(kg, sizeof kg, p, id) < 0) {
        dash_result_error(res, 500, "internal", "key name too long");
        return -1;
    }
    snprintf(kf, sizeof kf, "%s:first", kr);
    dash_cmd_t cmds[5];
    dash_cmd(&cmds[0], 3, "ZSCORE", kq, id);
    dash_cmd(&cmds[1], 2, "HGETALL", ks);
    dash_cmd(&cmds[2], 5, "ZRANGE", kr, "0", "-1", "WITHSCORES");
    dash_cmd(&cmds[3], 2, "SMEMBERS", kg);
    dash_cmd(&cmds[4], 5, "ZRANGE", kf, "0", "-1", "WITHSCORES");
    char why[300];
    dash_status_t st = dash_redis_snapshot(ctx->redis, cmds, 5, &q->snap, why, sizeof why);
    if (st != DASH_OK) {
        dash_result_redis(res, st, why);
        return -1;
    }
    redisReply **e = q->snap->element;
    if (e[0]->type == REDIS_REPLY_NIL) {
        dash_result_error(res, 404, "unknown_quarter", "no data for quarter %s", id);
        dash_quarter_free(q);
        return -1;
    }
    for (int i = 1; i < 5; i++) {
        if (e[i]->type != REDIS_REPLY_ARRAY || (i != 3 && e[i]->elements % 2)) {
            dash_result_error(res, 500, "dash_result_redis", "unexpected reply for %s",
                              cmds[i].argv[1]);
            dash_quarter_free(q);
            return -1;
        }
    }
    q->state = e[1];
    const redisReply *reg = e[2], *goals = e[3], *first = e[4];
    size_t nrep = reg->elements / 2;
    if (nrep > MAX_REGIONS || goals->elements > MAX_GOALS) {
        dash_result_error(res, 500, "too_large", "more than %d regions or %d goals",
                          MAX_REGIONS, MAX_GOALS);
        dash_quarter_free(q);
        return -1;
    }
    const agg_regions_t *exp = &ctx->ref->expected;
    q->regions = calloc(exp->count + nrep + 1, sizeof *q->regions);
    q->goals = calloc(goals->elements + 1, sizeof *q->goals);
    if (!q->regions || !q->goals) {
        dash_result_error(res, 500, "internal", "out of memory");
        dash_quarter_free(q);
        return -1;
    }
    /* Expected regions first, in the reference order (capital districts, then aimags,
     * as head office lists them), then any other region that reported, by code. */
    for (size_t i = 0; i < exp->count; i++) {
        dash_qregion_t *r = &q->regions[q->nregions++];
        r->code = exp->code[i];
        r->ref = dash_ref_region(ctx->ref, r->code);
    }
    size_t extra_from = q->nregions;
    for (size_t i = 0; i < nrep; i++) {
        const redisReply *m = reg->element[2 * i];
        long long ms;
        if (m->type != REDIS_REPLY_STRING ||
            dash_score_of(reg->element[2 * i + 1], &ms) != 0)
            continue;
        dash_qregion_t *r = dash_find_region(q, m->str);
        if (!r) {
            r = &q->regions[q->nregions++];
            r->code = m->str;
            r->ref = dash_ref_region(ctx->ref, r->code);
        }
        r->reported = true;
        r->last_ms = ms;
        q->nreported++;
    }
    qsort(q->regions + extra_from, q->nregions - extra_from, sizeof *q->regions,
          region_code_cmp);
    q->has_first = first->elements > 0;
    for (size_t i = 0; i + 1 < first->elements; i += 2) {
        long long ms;
        dash_qregion_t *r = first->element[i]->type == REDIS_REPLY_STRING
                                ? dash_find_region(q, first->element[i]->str)
                                : NULL;
        if (r && dash_score_of(first->element[i + 1], &ms) == 0) {
            r->first_ms = ms;
            r->has_first = true;
        }
    }
    for (size_t i = 0; i < goals->elements; i++)
        if (goals->element[i]->type == REDIS_REPLY_STRING)
            q->goals[q->ngoals++] = goals->element[i]->str;
    qsort(q->goals, q->ngoals, sizeof *q->goals, goal_qsort_cmp);
    return 0;
}

/* The close state of SPEC 8 as JSON: status "open" while agg:Q:state lacks it. */
json_t *dash_state_json(const dash_quarter_t *q, bool *ok) {
    json_t *s = json_object();
    const char *status = dash_state_field(q, "status");
    dash_put(s, "status", json_string(status ? status : "open"), ok);
    static const char *const ints[] = {"closed_ms", "summary_revision", "partitions",
                                       "partitions_closed"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        long long v;
        bool have = dash_state_int(q, ints[i], &v);
        dash_put(s, ints[i], dash_int_or_null(have, v), ok);
    }
    return s;
}

/* ---- the second snapshot ---- */

/* Room for n key names of the second snapshot. */
int dash_keys_alloc(dash_quarter_t *q, size_t n, dash_result_t *res) {
    q->keys = calloc(n ? n : 1, sizeof *q->keys);
    q->nkeys = 0;
    q->keys_cap = n;
    if (!q->keys) {
        dash_result_error(res, 500, "internal", "out of memory");
        return -1;
    }
    return 0;
}

/* Appends an HGETALL of the scope (region/goal may be NULL) to cmds. */
int dash_add_scope(const dash_ctx_t *ctx, dash_quarter_t *q, dash_cmd_t *cmds, size_t *n,
                   const char *region, const char *goal) {
    if (q->nkeys >= q->keys_cap)
        return -1;
    char *k = q->keys[q->nkeys++];
    if (agg_key_scope(k, AGG_KEY_MAX, ctx->conf->key_prefix, q->id, region, goal) < 0)
        return -1;
    dash_cmd(&cmds[(*n)++], 2, "HGETALL", k);
    return 0;
}

int dash_add_rank(const dash_ctx_t *ctx, dash_quarter_t *q, dash_cmd_t *cmds, size_t *n,
                  const char *goal) {
    if (q->nkeys >= q->keys_cap)
        return -1;
    char *k = q->keys[q->nkeys++];
    if (agg_key_rank(k, AGG_KEY_MAX, ctx->conf->key_prefix, q->id, goal) < 0)
        return -1;
    dash_cmd(&cmds[(*n)++], 5, "ZRANGE", k, "0", "-1", "WITHSCORES");
    return 0;
}

/* Runs the second snapshot. */
redisReply *dash_snapshot2(dash_ctx_t *ctx, const dash_cmd_t *cmds, size_t n,
                           dash_result_t *res) {
    redisReply *r = NULL;
    char why[300];
    dash_status_t st = dash_redis_snapshot(ctx->redis, cmds, n, &r, why, sizeof why);
    if (st != DASH_OK) {
        dash_result_redis(res, st, why);
        return NULL;
    }
    return r;
}

/* Commands and key buffers for n commands of the second snapshot. NULL with res set.
 * Ownership: the caller passes the array to dash_run_cmds, which frees it. */
dash_cmd_t *dash_cmds_alloc(dash_quarter_t *q, size_t n, dash_result_t *res) {
    dash_cmd_t *cmds = calloc(n ? n : 1, sizeof *cmds);
    if (!cmds || dash_keys_alloc(q, n, res)) {
        free(cmds);
        if (!res->body)
            dash_result_error(res, 500, "internal", "out of memory");
        return NULL;
    }
    return cmds;
}

/* Runs the c commands built (bad: a key did not fit) and frees cmds. The EXEC reply
 * is the caller's (freeReplyObject); NULL with res set. */
redisReply *dash_run_cmds(dash_ctx_t *ctx, dash_cmd_t *cmds, size_t c, int bad,
                          dash_result_t *res) {
    redisReply *s = NULL;
    if (bad)
        dash_result_error(res, 500, "internal", "key name too long");
    else
        s = dash_snapshot2(ctx, cmds, c, res);
    free(cmds);
    return s;
}
