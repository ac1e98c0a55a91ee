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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agg/keys.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/record.h"
#include "dash.h"

/* Bounds on what one answer may hold: far above the 30 regions and ~13 goals of the
 * reference lists, low enough that a corrupted key cannot make a request build an
 * answer of unbounded size. */
#define MAX_REGIONS 1024
#define MAX_GOALS 256
#define MAX_QUARTERS 1024

void dash_result_clear(dash_result_t *res) {
    json_decref(res->body);
    res->body = NULL;
}

void dash_result_error(dash_result_t *res, int status, const char *code, const char *fmt,
                       ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dash_result_clear(res);
    res->status = status;
    res->table = DASH_TABLE_NONE;
    /* NULL (out of memory) is sent as an empty 500 by http.c. */
    res->body = json_pack("{s:s,s:s,s:i}", "error", code, "message", msg, "status", status);
}

static void redis_error(dash_result_t *res, dash_status_t st, const char *why) {
    if (st == DASH_UNAVAILABLE)
        dash_result_error(res, 503, "redis_unavailable", "%s", why);
    else
        dash_result_error(res, 500, "redis_error", "%s", why);
}

/* ---- building JSON: every insertion checked through one flag ---- */

static void put(json_t *obj, const char *key, json_t *v, bool *ok) {
    if (!obj || json_object_set_new(obj, key, v) != 0)
        *ok = false;
}

static void push(json_t *arr, json_t *v, bool *ok) {
    if (!arr || json_array_append_new(arr, v) != 0)
        *ok = false;
}

static json_t *int_or_null(bool have, long long v) {
    return have ? json_integer((json_int_t)v) : json_null();
}

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

/* ---- one quarter's lists (first snapshot) ---- */

typedef struct {
    const char *code;
    long long last_ms;
    long long first_ms;
    bool has_first;
    bool reported;
    const dash_region_ref_t *ref;
} region_t;

typedef struct {
    char id[AGG_QUARTER_ID_LEN + 1];
    int year, quarter;
    redisReply *snap; /* owns every string below */
    const redisReply *state;
    region_t *regions; /* reference order, then the others in code order */
    size_t nregions, nreported;
    const char **goals; /* reading order */
    size_t ngoals;
    bool has_first; /* agg:Q:regions:first exists (timeliness is known) */
    /* key buffers of the second snapshot */
    char (*keys)[AGG_KEY_MAX];
    size_t nkeys, keys_cap;
} quarter_t;

static void quarter_free(quarter_t *q) {
    if (q->snap)
        freeReplyObject(q->snap);
    free(q->regions);
    free(q->goals);
    free(q->keys);
    memset(q, 0, sizeof *q);
}

static const char *state_field(const quarter_t *q, const char *name) {
    const redisReply *s = q->state;
    if (!s || s->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < s->elements; i += 2)
        if (s->element[i]->type == REDIS_REPLY_STRING && strcmp(s->element[i]->str, name) == 0 &&
            s->element[i + 1]->type == REDIS_REPLY_STRING)
            return s->element[i + 1]->str;
    return NULL;
}

static bool state_int(const quarter_t *q, const char *name, long long *v) {
    const char *s = state_field(q, name);
    return s && dash_parse_ll(s, strlen(s), v) == 0;
}

static region_t *find_region(quarter_t *q, const char *code) {
    for (size_t i = 0; i < q->nregions; i++)
        if (strcmp(q->regions[i].code, code) == 0)
            return &q->regions[i];
    return NULL;
}

static int score_of(const redisReply *s, long long *v) {
    return s->type == REDIS_REPLY_STRING ? dash_parse_ll(s->str, s->len, v) : -1;
}

static int region_code_cmp(const void *x, const void *y) {
    return strcmp(((const region_t *)x)->code, ((const region_t *)y)->code);
}

/* Reads the quarter's lists. Returns 0, or -1 with res set (404 for an unknown
 * quarter, 503 when Redis is down). */
static int quarter_load(dash_ctx_t *ctx, const char *id, quarter_t *q, dash_result_t *res) {
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
        agg_key_regions(kr, sizeof kr, p, id) < 0 || agg_key_goals(kg, sizeof kg, p, id) < 0) {
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
        redis_error(res, st, why);
        return -1;
    }
    redisReply **e = q->snap->element;
    if (e[0]->type == REDIS_REPLY_NIL) {
        dash_result_error(res, 404, "unknown_quarter", "no data for quarter %s", id);
        quarter_free(q);
        return -1;
    }
    for (int i = 1; i < 5; i++) {
        if (e[i]->type != REDIS_REPLY_ARRAY || (i != 3 && e[i]->elements % 2)) {
            dash_result_error(res, 500, "redis_error", "unexpected reply for %s",
                              cmds[i].argv[1]);
            quarter_free(q);
            return -1;
        }
    }
    q->state = e[1];
    const redisReply *reg = e[2], *goals = e[3], *first = e[4];
    size_t nrep = reg->elements / 2;
    if (nrep > MAX_REGIONS || goals->elements > MAX_GOALS) {
        dash_result_error(res, 500, "too_large", "more than %d regions or %d goals",
                          MAX_REGIONS, MAX_GOALS);
        quarter_free(q);
        return -1;
    }
    const agg_regions_t *exp = &ctx->ref->expected;
    q->regions = calloc(exp->count + nrep + 1, sizeof *q->regions);
    q->goals = calloc(goals->elements + 1, sizeof *q->goals);
    if (!q->regions || !q->goals) {
        dash_result_error(res, 500, "internal", "out of memory");
        quarter_free(q);
        return -1;
    }
    /* Expected regions first, in the reference order (capital districts, then aimags,
     * as head office lists them), then any other region that reported, by code. */
    for (size_t i = 0; i < exp->count; i++) {
        region_t *r = &q->regions[q->nregions++];
        r->code = exp->code[i];
        r->ref = dash_ref_region(ctx->ref, r->code);
    }
    size_t extra_from = q->nregions;
    for (size_t i = 0; i < nrep; i++) {
        const redisReply *m = reg->element[2 * i];
        long long ms;
        if (m->type != REDIS_REPLY_STRING || score_of(reg->element[2 * i + 1], &ms) != 0)
            continue;
        region_t *r = find_region(q, m->str);
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
        region_t *r = first->element[i]->type == REDIS_REPLY_STRING
                          ? find_region(q, first->element[i]->str)
                          : NULL;
        if (r && score_of(first->element[i + 1], &ms) == 0) {
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

/* Room for n key names of the second snapshot. */
static int keys_alloc(quarter_t *q, size_t n, dash_result_t *res) {
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
static int add_scope(const dash_ctx_t *ctx, quarter_t *q, dash_cmd_t *cmds, size_t *n,
                     const char *region, const char *goal) {
    if (q->nkeys >= q->keys_cap)
        return -1;
    char *k = q->keys[q->nkeys++];
    if (agg_key_scope(k, AGG_KEY_MAX, ctx->conf->key_prefix, q->id, region, goal) < 0)
        return -1;
    dash_cmd(&cmds[(*n)++], 2, "HGETALL", k);
    return 0;
}

static int add_rank(const dash_ctx_t *ctx, quarter_t *q, dash_cmd_t *cmds, size_t *n,
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
static redisReply *snapshot2(dash_ctx_t *ctx, const dash_cmd_t *cmds, size_t n,
                             dash_result_t *res) {
    redisReply *r = NULL;
    char why[300];
    dash_status_t st = dash_redis_snapshot(ctx->redis, cmds, n, &r, why, sizeof why);
    if (st != DASH_OK) {
        redis_error(res, st, why);
        return NULL;
    }
    return r;
}

/* Commands and key buffers for n commands of the second snapshot. NULL with res set.
 * Ownership: the caller passes the array to run_cmds, which frees it. */
static dash_cmd_t *cmds_alloc(quarter_t *q, size_t n, dash_result_t *res) {
    dash_cmd_t *cmds = calloc(n ? n : 1, sizeof *cmds);
    if (!cmds || keys_alloc(q, n, res)) {
        free(cmds);
        if (!res->body)
            dash_result_error(res, 500, "internal", "out of memory");
        return NULL;
    }
    return cmds;
}

/* Runs the c commands built (bad: a key did not fit) and frees cmds. The EXEC reply
 * is the caller's (freeReplyObject); NULL with res set. */
static redisReply *run_cmds(dash_ctx_t *ctx, dash_cmd_t *cmds, size_t c, int bad,
                            dash_result_t *res) {
    redisReply *s = NULL;
    if (bad)
        dash_result_error(res, 500, "internal", "key name too long");
    else
        s = snapshot2(ctx, cmds, c, res);
    free(cmds);
    return s;
}

/* Makes b the 200 answer; when a step failed (ok false) b is dropped and res keeps the
 * error that step set, or says out of memory. Takes ownership of b. */
static void answer(dash_result_t *res, json_t *b, bool ok, dash_table_t table) {
    if (!ok || !b) {
        json_decref(b);
        if (!res->body)
            dash_result_error(res, 500, "internal", "out of memory");
        return;
    }
    res->status = 200;
    res->body = b;
    res->table = table;
}

/* The scope of a reply as JSON (null when the hash is empty). *ok turns false on a
 * failure, with res set. */
static json_t *scope_of(const redisReply *r, dash_result_t *res, bool *ok) {
    json_t *j = NULL;
    char why[200];
    if (dash_scope_json(r, &j, why, sizeof why) != 0) {
        dash_result_error(res, 500, "bad_data", "%s", why);
        *ok = false;
        return json_null();
    }
    return j ? j : json_null();
}

/* ---- pieces shared by the answers ---- */

static json_t *region_ref_json(const region_t *r) {
    return json_pack("{s:s,s:s?,s:s?}", "code", r->code, "name_mn",
                     r->ref && r->ref->name_mn[0] ? r->ref->name_mn : NULL, "name_en",
                     r->ref && r->ref->name_en[0] ? r->ref->name_en : NULL);
}

static json_t *goal_ref_json(const dash_ctx_t *ctx, const char *code) {
    const dash_goal_ref_t *g = dash_ref_goal(ctx->ref, code);
    return json_pack("{s:s,s:s?}", "code", code, "title_en",
                     g && g->title_en[0] ? g->title_en : NULL);
}

/* "87.50"-style percent of a / b, half away from zero; null when b = 0. */
static json_t *rate_json(long long a, long long b) {
    if (b <= 0 || a < 0)
        return json_null();
    long long x100 = (a * 10000 * 2 + b) / (2 * b);
    char buf[32];
    if (dash_x100_format(x100, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

static long long deadline_ms(const dash_ctx_t *ctx, const quarter_t *q) {
    long long v;
    if (state_int(q, "deadline_ms", &v))
        return v;
    return agg_quarter_deadline_ms(q->year, q->quarter, (int)ctx->conf->deadline_day);
}

/* The close state of SPEC 8 as JSON: status "open" while agg:Q:state lacks it. */
static json_t *state_json(const quarter_t *q, bool *ok) {
    json_t *s = json_object();
    const char *status = state_field(q, "status");
    put(s, "status", json_string(status ? status : "open"), ok);
    static const char *const ints[] = {"closed_ms", "summary_revision", "partitions",
                                       "partitions_closed"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        long long v;
        bool have = state_int(q, ints[i], &v);
        put(s, ints[i], int_or_null(have, v), ok);
    }
    return s;
}

/* ---- /quarters ---- */

static void api_quarters(dash_ctx_t *ctx, dash_result_t *res) {
    char kq[AGG_KEY_MAX];
    if (agg_key_quarters(kq, sizeof kq, ctx->conf->key_prefix) < 0) {
        dash_result_error(res, 500, "internal", "key name too long");
        return;
    }
    dash_cmd_t c;
    dash_cmd(&c, 5, "ZRANGE", kq, "0", "-1", "WITHSCORES");
    redisReply *list = snapshot2(ctx, &c, 1, res);
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
            dash_cmd(&cmds[i], 5, "HMGET", keys[i], "status", "summary_revision", "closed_ms");
    }
    if (!ok) {
        dash_result_error(res, 500, "internal", "out of memory or bad quarter id");
        goto out;
    }
    if (n && !(st = snapshot2(ctx, cmds, n, res)))
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
        push(arr,
             json_pack("{s:s,s:s,s:o,s:o}", "quarter", z->element[2 * (from + k)]->str, "status",
                       f[0] ? f[0] : "open", "summary_revision", int_or_null(has_rev, rev),
                       "closed_ms", int_or_null(has_closed, closed)),
             &ok);
    }
    res->body = json_pack("{s:o,s:o}", "quarters", arr, "latest",
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

static void api_quarter(dash_ctx_t *ctx, quarter_t *q, dash_result_t *res) {
    dash_cmd_t cmd;
    size_t n = 0;
    if (keys_alloc(q, 1, res) || add_scope(ctx, q, &cmd, &n, NULL, NULL)) {
        if (!res->body)
            dash_result_error(res, 500, "internal", "key name too long");
        return;
    }
    redisReply *s = snapshot2(ctx, &cmd, 1, res);
    if (!s)
        return;
    bool ok = true;
    json_t *b = json_object(), *goals = json_array();
    put(b, "quarter", json_string(q->id), &ok);
    put(b, "state", state_json(q, &ok), &ok);
    put(b, "total", scope_of(s->element[0], res, &ok), &ok);
    put(b, "regions_expected", json_integer((json_int_t)ctx->ref->expected.count), &ok);
    put(b, "regions_reported", json_integer((json_int_t)q->nreported), &ok);
    for (size_t i = 0; i < q->ngoals; i++)
        push(goals, json_string(q->goals[i]), &ok);
    put(b, "goals", goals, &ok);
    freeReplyObject(s);
    answer(res, b, ok, DASH_TABLE_QUARTER);
}

/* ---- /quarters/Q/matrix ---- */

static void api_matrix(dash_ctx_t *ctx, quarter_t *q, dash_result_t *res) {
    /* total, each goal, each region, each reported region x goal */
    size_t n = 1 + q->ngoals + q->nregions + q->nreported * q->ngoals;
    dash_cmd_t *cmds = cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = add_scope(ctx, q, cmds, &c, NULL, NULL);
    for (size_t g = 0; g < q->ngoals; g++)
        bad |= add_scope(ctx, q, cmds, &c, NULL, q->goals[g]);
    for (size_t r = 0; r < q->nregions; r++) {
        bad |= add_scope(ctx, q, cmds, &c, q->regions[r].code, NULL);
        if (q->regions[r].reported)
            for (size_t g = 0; g < q->ngoals; g++)
                bad |= add_scope(ctx, q, cmds, &c, q->regions[r].code, q->goals[g]);
    }
    redisReply *s = run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    size_t e = 0;
    json_t *b = json_object(), *goals = json_array(), *regions = json_array();
    put(b, "quarter", json_string(q->id), &ok);
    put(b, "total", scope_of(s->element[e++], res, &ok), &ok);
    for (size_t g = 0; g < q->ngoals; g++) {
        json_t *gj = goal_ref_json(ctx, q->goals[g]);
        put(gj, "scope", scope_of(s->element[e++], res, &ok), &ok);
        push(goals, gj, &ok);
    }
    for (size_t r = 0; r < q->nregions; r++) {
        const region_t *rg = &q->regions[r];
        json_t *rj = region_ref_json(rg), *cells = json_object();
        put(rj, "reported", json_boolean(rg->reported), &ok);
        put(rj, "scope", scope_of(s->element[e++], res, &ok), &ok);
        if (rg->reported) {
            for (size_t g = 0; g < q->ngoals; g++) {
                json_t *cell = scope_of(s->element[e++], res, &ok);
                if (json_is_null(cell))
                    json_decref(cell); /* the region has no row of this goal */
                else
                    put(cells, q->goals[g], cell, &ok);
            }
        }
        put(rj, "goals", cells, &ok);
        push(regions, rj, &ok);
    }
    put(b, "goals", goals, &ok);
    put(b, "regions", regions, &ok);
    freeReplyObject(s);
    answer(res, b, ok, DASH_TABLE_MATRIX);
}

/* ---- rankings ---- */

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
            score_of(z->element[2 * i + 1], &s) == 0)
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
        push(arr,
             json_pack("{s:i,s:s,s:s,s:I}", "rank", (int)rank, "code", v[i].code,
                       "completion_avg", avg, "completion_avg_x100", (json_int_t)v[i].score),
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

static void api_region(dash_ctx_t *ctx, quarter_t *q, const char *code, dash_result_t *res) {
    char why[128];
    const region_t *rg = NULL;
    if (agg_check_region(code, strlen(code), why, sizeof why) == 0)
        rg = find_region(q, code);
    if (!rg) {
        dash_result_error(res, 404, "unknown_region",
                          "region %.40s is neither expected nor reported in %s", code, q->id);
        return;
    }
    size_t n = 1 + 2 * q->ngoals;
    dash_cmd_t *cmds = cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = add_scope(ctx, q, cmds, &c, code, NULL);
    for (size_t g = 0; g < q->ngoals; g++) {
        bad |= add_scope(ctx, q, cmds, &c, code, q->goals[g]);
        bad |= add_rank(ctx, q, cmds, &c, q->goals[g]);
    }
    redisReply *s = run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    json_t *b = json_object(), *goals = json_array();
    put(b, "quarter", json_string(q->id), &ok);
    put(b, "region", region_ref_json(rg), &ok);
    put(b, "reported", json_boolean(rg->reported), &ok);
    put(b, "last_submitted_ms", int_or_null(rg->reported, rg->last_ms), &ok);
    put(b, "first_submitted_ms", int_or_null(rg->has_first, rg->first_ms), &ok);
    put(b, "scope", scope_of(s->element[0], res, &ok), &ok);
    for (size_t g = 0; g < q->ngoals; g++) {
        json_t *scope = scope_of(s->element[1 + 2 * g], res, &ok);
        if (json_is_null(scope)) {
            json_decref(scope); /* no row of this goal in the region */
            continue;
        }
        size_t ranked = 0;
        json_t *ranking = ranking_of(s->element[2 + 2 * g], &ranked);
        json_t *mine = ranking ? rank_entry(ranking, code) : NULL;
        json_t *gj = goal_ref_json(ctx, q->goals[g]);
        put(gj, "scope", scope, &ok);
        put(gj, "rank", mine ? json_incref(json_object_get(mine, "rank")) : json_null(), &ok);
        put(gj, "ranked", json_integer((json_int_t)ranked), &ok);
        ok = ok && ranking;
        json_decref(ranking);
        push(goals, gj, &ok);
    }
    put(b, "goals", goals, &ok);
    freeReplyObject(s);
    answer(res, b, ok, DASH_TABLE_REGION);
}

/* ---- /quarters/Q/goals/G ---- */

static void api_goal(dash_ctx_t *ctx, quarter_t *q, const char *code, dash_result_t *res) {
    const char *goal = NULL;
    for (size_t g = 0; g < q->ngoals; g++)
        if (strcmp(q->goals[g], code) == 0)
            goal = q->goals[g];
    if (!goal) {
        dash_result_error(res, 404, "unknown_goal", "goal %.40s has no rows in %s", code, q->id);
        return;
    }
    size_t n = 2 + q->nreported;
    dash_cmd_t *cmds = cmds_alloc(q, n, res);
    if (!cmds)
        return;
    size_t c = 0;
    int bad = add_scope(ctx, q, cmds, &c, NULL, goal);
    bad |= add_rank(ctx, q, cmds, &c, goal);
    for (size_t r = 0; r < q->nregions; r++)
        if (q->regions[r].reported)
            bad |= add_scope(ctx, q, cmds, &c, q->regions[r].code, goal);
    redisReply *s = run_cmds(ctx, cmds, c, bad, res);
    if (!s)
        return;
    bool ok = true;
    size_t ranked = 0;
    json_t *b = json_object();
    json_t *ranking = ranking_of(s->element[1], &ranked);
    put(b, "quarter", json_string(q->id), &ok);
    put(b, "goal", goal_ref_json(ctx, goal), &ok);
    put(b, "scope", scope_of(s->element[0], res, &ok), &ok);
    /* Ranked regions in rank order, then those with rows but nothing assessed. */
    size_t e = 2, i;
    json_t *entry;
    json_t *unranked = json_array();
    for (size_t r = 0; r < q->nregions; r++) {
        const region_t *rg = &q->regions[r];
        if (!rg->reported)
            continue;
        json_t *scope = scope_of(s->element[e++], res, &ok);
        if (json_is_null(scope)) {
            json_decref(scope);
            continue;
        }
        json_t *mine = ranking ? rank_entry(ranking, rg->code) : NULL;
        if (mine) {
            json_t *ref = region_ref_json(rg);
            put(mine, "name_mn", json_incref(json_object_get(ref, "name_mn")), &ok);
            put(mine, "name_en", json_incref(json_object_get(ref, "name_en")), &ok);
            json_decref(ref);
            put(mine, "scope", scope, &ok);
        } else {
            json_t *rj = region_ref_json(rg);
            put(rj, "rank", json_null(), &ok);
            put(rj, "scope", scope, &ok);
            push(unranked, rj, &ok);
        }
    }
    json_t *list = json_array();
    json_array_foreach(ranking, i, entry) {
        if (!json_object_get(entry, "scope"))
            continue; /* ranked but no scope: a region outside this snapshot's lists */
        push(list, json_incref(entry), &ok);
    }
    json_array_foreach(unranked, i, entry) push(list, json_incref(entry), &ok);
    json_decref(unranked);
    json_decref(ranking);
    ok = ok && ranking;
    put(b, "ranked", json_integer((json_int_t)ranked), &ok);
    put(b, "regions", list, &ok);
    freeReplyObject(s);
    answer(res, b, ok, DASH_TABLE_GOAL);
}

/* ---- /quarters/Q/completeness ---- */

static bool in_list(const char *list, const char *code) {
    size_t len = strlen(code);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == len && strncmp(p, code, len) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static void api_completeness(dash_ctx_t *ctx, quarter_t *q, dash_result_t *res) {
    bool ok = true;
    long long deadline = deadline_ms(ctx, q);
    const char *status = state_field(q, "status");
    bool closed = status && strcmp(status, "closed") == 0;
    /* A closed quarter's figures are the ones its summary carries (SPEC 8); while it is
     * open they are computed here the same way from the live keys. */
    const char *missing_list = closed ? state_field(q, "regions_missing") : NULL;
    long long expected = (long long)ctx->ref->expected.count, reported = 0, on_time = 0;
    json_t *b = json_object(), *regions = json_array(), *missing = json_array(),
           *late = json_array();
    for (size_t r = 0; r < q->nregions; r++) {
        const region_t *rg = &q->regions[r];
        bool is_expected = agg_regions_contains(&ctx->ref->expected, rg->code, strlen(rg->code));
        bool is_missing = missing_list ? in_list(missing_list, rg->code)
                                       : is_expected && !rg->reported;
        json_t *rj = region_ref_json(rg);
        json_t *timely = json_null();
        if (rg->reported && rg->has_first) {
            timely = json_boolean(rg->first_ms <= deadline);
            on_time += rg->first_ms <= deadline && is_expected;
            if (rg->first_ms > deadline)
                push(late, json_incref(rj), &ok);
        }
        reported += rg->reported && is_expected;
        put(rj, "expected", json_boolean(is_expected), &ok);
        put(rj, "reported", json_boolean(rg->reported), &ok);
        put(rj, "last_submitted_ms", int_or_null(rg->reported, rg->last_ms), &ok);
        put(rj, "first_submitted_ms", int_or_null(rg->has_first, rg->first_ms), &ok);
        put(rj, "on_time", timely, &ok);
        if (is_missing)
            push(missing, json_incref(rj), &ok);
        push(regions, rj, &ok);
    }
    long long v;
    if (closed && state_int(q, "regions_expected", &v))
        expected = v;
    if (closed && state_int(q, "regions_reported", &v))
        reported = v;
    bool on_time_known = q->has_first;
    if (closed && state_int(q, "regions_on_time", &v)) {
        on_time = v;
        on_time_known = true;
    }
    put(b, "quarter", json_string(q->id), &ok);
    put(b, "state", state_json(q, &ok), &ok);
    put(b, "deadline_ms", json_integer((json_int_t)deadline), &ok);
    put(b, "regions_expected", json_integer((json_int_t)expected), &ok);
    put(b, "regions_reported", json_integer((json_int_t)reported), &ok);
    put(b, "regions_on_time", int_or_null(on_time_known, on_time), &ok);
    put(b, "reporting_rate", rate_json(reported, expected), &ok);
    put(b, "on_time_rate", on_time_known ? rate_json(on_time, expected) : json_null(), &ok);
    put(b, "missing", missing, &ok);
    /* Without agg:Q:regions:first nobody can say who was late: null, not []. */
    if (on_time_known && q->has_first) {
        put(b, "late", late, &ok);
    } else {
        json_decref(late);
        put(b, "late", json_null(), &ok);
    }
    put(b, "regions", regions, &ok);
    answer(res, b, ok, DASH_TABLE_COMPLETENESS);
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
    bool shape = n == 2 || (n == 3 && (strcmp(seg[2], "matrix") == 0 ||
                                       strcmp(seg[2], "completeness") == 0)) ||
                 (n == 4 && (strcmp(seg[2], "regions") == 0 || strcmp(seg[2], "goals") == 0));
    if (!shape) {
        dash_result_error(res, 404, "not_found", "no such endpoint (see the README)");
        return;
    }
    quarter_t q;
    if (quarter_load(ctx, seg[1], &q, res) != 0)
        return;
    if (n == 2)
        api_quarter(ctx, &q, res);
    else if (n == 3 && strcmp(seg[2], "matrix") == 0)
        api_matrix(ctx, &q, res);
    else if (n == 3)
        api_completeness(ctx, &q, res);
    else if (strcmp(seg[2], "regions") == 0)
        api_region(ctx, &q, seg[3], res);
    else
        api_goal(ctx, &q, seg[3], res);
    quarter_free(&q);
}
