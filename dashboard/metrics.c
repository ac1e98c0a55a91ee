/* /metrics: the workers' counters (SPEC 10) as Prometheus series labelled by worker,
 * read from the JSON each worker stores under <prefix>:internal:metrics:<host>:<pid>
 * (expires 5 min after the worker's last report), and the dashboard's own request
 * counters. When Redis is down the answer is still 200 with agg_dashboard_redis_up 0:
 * the dashboard's own series stay visible to the operator exactly then. */
#include <stdlib.h>
#include <string.h>

#include "agg/keys.h"
#include "agg/log.h"
#include "dash.h"

#define MAX_WORKERS 1024
#define MAX_SCAN_CALLS 10000 /* bounds the time of one scrape on a huge keyspace */

/* ---- the dashboard's own counters ---- */

static const char *const handler_name[DASH_H_COUNT] = {"page",    "api",     "export",
                                                       "metrics", "healthz", "other"};
static const int codes[] = {200, 304, 400, 401, 403, 404, 405, 413, 414, 500, 503};
#define NCODES (sizeof codes / sizeof *codes)
/* the last slot counts any other status */
static unsigned long long requests[DASH_H_COUNT][NCODES + 1];

void dash_count_request(dash_handler_t h, int status) {
    if ((unsigned)h >= DASH_H_COUNT)
        h = DASH_H_OTHER;
    size_t c = NCODES;
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i] == status)
            c = i;
    __atomic_add_fetch(&requests[h][c], 1, __ATOMIC_RELAXED);
}

static int own_counters(FILE *out, bool redis_up, size_t nworkers) {
    if (dash_prom_header(out, "agg_dashboard_requests_total", "counter",
                         "HTTP requests answered by agg-dashboard, by handler and status"))
        return -1;
    for (size_t h = 0; h < DASH_H_COUNT; h++) {
        for (size_t c = 0; c <= NCODES; c++) {
            unsigned long long v = __atomic_load_n(&requests[h][c], __ATOMIC_RELAXED);
            if (!v)
                continue;
            char code[16];
            snprintf(code, sizeof code, "%d", c < NCODES ? codes[c] : 0);
            const char *labels[] = {"handler", handler_name[h], "code",
                                    c < NCODES ? code : "other", NULL};
            if (dash_prom_sample(out, "agg_dashboard_requests_total", labels, (long long)v))
                return -1;
        }
    }
    return dash_prom_header(out, "agg_dashboard_redis_up", "gauge",
                            "1 when the dashboard could read Redis for this scrape") ||
           dash_prom_sample(out, "agg_dashboard_redis_up", NULL, redis_up) ||
           dash_prom_header(out, "agg_dashboard_workers", "gauge",
                            "workers whose metrics are in Redis (reported within 5 min)") ||
           dash_prom_sample(out, "agg_dashboard_workers", NULL, (long long)nworkers);
}

/* ---- the workers' series ---- */

typedef struct {
    const char *field; /* in the worker's JSON */
    const char *name;
    const char *type;
    const char *help;
} series_t;

static const series_t series[] = {
    {"records_applied", "agg_worker_records_applied_total", "counter",
     "records that changed the aggregates"},
    {"records_unchanged", "agg_worker_records_unchanged_total", "counter",
     "records that changed nothing (duplicates, stale revisions)"},
    {"dlq", "agg_worker_dlq_total", "counter", "messages sent to the dead-letter topic"},
    {"batches", "agg_worker_batches_total", "counter", "batches applied to Redis"},
    {"redis_roundtrips", "agg_worker_redis_roundtrips_total", "counter",
     "round trips to Redis"},
    {"fenced", "agg_worker_fenced_total", "counter",
     "batches refused because the stored offset moved (rebalance, zombie)"},
    {"conflicts", "agg_worker_conflicts_total", "counter",
     "batches retried after a record-state compare-and-set conflict"},
    {"redis_errors", "agg_worker_redis_errors_total", "counter", "failed Redis calls"},
    {"offsets_moved", "agg_worker_offsets_moved_total", "counter",
     "partitions sought back or forward because the stored offset moved (Redis rollback)"},
    {"lag", "agg_worker_lag", "gauge",
     "messages behind the high watermarks of the worker's partitions"},
    {"time_ms", "agg_worker_report_time_ms", "gauge",
     "when the worker last stored these metrics (ms since the epoch)"},
};

static int member_cmp(const void *x, const void *y) {
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "member"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "member"));
    return strcmp(a ? a : "", b ? b : "");
}

int dash_metrics_workers(FILE *out, json_t *const *docs, size_t n) {
    for (size_t s = 0; s < sizeof series / sizeof *series; s++) {
        if (dash_prom_header(out, series[s].name, series[s].type, series[s].help))
            return -1;
        for (size_t i = 0; i < n; i++) {
            const char *member = json_string_value(json_object_get(docs[i], "member"));
            json_t *v = json_object_get(docs[i], series[s].field);
            if (!member || !json_is_integer(v))
                continue;
            const char *labels[] = {"worker", member, NULL};
            if (dash_prom_sample(out, series[s].name, labels,
                                 (long long)json_integer_value(v)))
                return -1;
        }
    }
    /* Lag per topic (one quarter each), as the worker last saw its partitions. */
    if (dash_prom_header(out, "agg_worker_topic_lag", "gauge",
                         "messages behind the high watermarks, per topic of the worker"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *member = json_string_value(json_object_get(docs[i], "member"));
        json_t *by = json_object_get(docs[i], "lag_by_topic");
        const char *topic;
        json_t *v;
        if (!member || !json_is_object(by))
            continue;
        json_object_foreach(by, topic, v) {
            if (!json_is_integer(v))
                continue;
            const char *labels[] = {"worker", member, "topic", topic, NULL};
            if (dash_prom_sample(out, "agg_worker_topic_lag", labels,
                                 (long long)json_integer_value(v)))
                return -1;
        }
    }
    /* The last error as an info series: its text is the label, the value 1. */
    if (dash_prom_header(out, "agg_worker_last_error_info", "gauge",
                         "the worker's last error (label error), when it had one"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *member = json_string_value(json_object_get(docs[i], "member"));
        const char *err = json_string_value(json_object_get(docs[i], "last_error"));
        if (!member || !err || !err[0])
            continue;
        const char *labels[] = {"worker", member, "error", err, NULL};
        if (dash_prom_sample(out, "agg_worker_last_error_info", labels, 1))
            return -1;
    }
    return 0;
}

/* SCAN's MATCH is a glob: the prefix's own glob characters are escaped. */
static int scan_pattern(char *buf, size_t bufsz, const char *prefix) {
    size_t o = 0;
    for (const char *p = prefix; *p; p++) {
        if (o + 3 >= bufsz)
            return -1;
        if (strchr("*?[]\\", *p))
            buf[o++] = '\\';
        buf[o++] = *p;
    }
    int n = snprintf(buf + o, bufsz - o, ":internal:metrics:*");
    return n < 0 || (size_t)n >= bufsz - o ? -1 : 0;
}

/* The workers' JSON documents, sorted by member. Ownership of *docs (and of each
 * element) passes to the caller. */
static dash_status_t load_workers(dash_ctx_t *ctx, json_t ***docs, size_t *n, char *errstr,
                                  size_t errstr_size) {
    *docs = NULL;
    *n = 0;
    char pattern[AGG_KEY_MAX * 2];
    if (scan_pattern(pattern, sizeof pattern, ctx->conf->key_prefix) != 0) {
        agg_fail(errstr, errstr_size, "key prefix too long");
        return DASH_FAILED;
    }
    char **keys = calloc(MAX_WORKERS, sizeof *keys);
    json_t **out = calloc(MAX_WORKERS, sizeof *out);
    size_t nkeys = 0, nout = 0;
    dash_status_t st = keys && out ? DASH_OK : DASH_FAILED;
    if (st != DASH_OK)
        agg_fail(errstr, errstr_size, "out of memory");
    char cursor[32] = "0";
    for (int calls = 0; st == DASH_OK && calls < MAX_SCAN_CALLS; calls++) {
        dash_cmd_t c;
        dash_cmd(&c, 6, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
        redisReply *r;
        st = dash_redis_command(ctx->redis, &c, &r, errstr, errstr_size);
        if (st != DASH_OK)
            break;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[0]->len >= sizeof cursor ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            agg_fail(errstr, errstr_size, "SCAN: unexpected reply");
            freeReplyObject(r);
            st = DASH_FAILED;
            break;
        }
        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        for (size_t i = 0; i < r->element[1]->elements && nkeys < MAX_WORKERS; i++) {
            const redisReply *k = r->element[1]->element[i];
            if (k->type == REDIS_REPLY_STRING && !(keys[nkeys] = strdup(k->str))) {
                st = DASH_FAILED;
                break;
            }
            nkeys += k->type == REDIS_REPLY_STRING;
        }
        freeReplyObject(r);
        if (strcmp(cursor, "0") == 0)
            break;
    }
    if (st == DASH_OK && nkeys) {
        dash_cmd_t *cmds = calloc(nkeys, sizeof *cmds);
        redisReply *vals = NULL;
        if (!cmds) {
            st = DASH_FAILED;
        } else {
            for (size_t i = 0; i < nkeys; i++)
                dash_cmd(&cmds[i], 2, "GET", keys[i]);
            st = dash_redis_snapshot(ctx->redis, cmds, nkeys, &vals, errstr, errstr_size);
        }
        for (size_t i = 0; st == DASH_OK && i < nkeys; i++) {
            const redisReply *v = vals->element[i];
            if (v->type != REDIS_REPLY_STRING)
                continue; /* expired between SCAN and GET */
            json_error_t jerr;
            json_t *doc = json_loadb(v->str, v->len, 0, &jerr);
            if (json_is_object(doc) && json_is_string(json_object_get(doc, "member")))
                out[nout++] = doc;
            else
                json_decref(doc); /* not a worker's document: left out */
        }
        if (vals)
            freeReplyObject(vals);
        free(cmds);
    }
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    if (st != DASH_OK) {
        for (size_t i = 0; i < nout; i++)
            json_decref(out[i]);
        free(out);
        return st;
    }
    qsort(out, nout, sizeof *out, member_cmp);
    *docs = out;
    *n = nout;
    return DASH_OK;
}

dash_status_t dash_metrics_text(dash_ctx_t *ctx, char **text, size_t *len, char *errstr,
                                size_t errstr_size) {
    *text = NULL;
    *len = 0;
    json_t **docs = NULL;
    size_t n = 0;
    char why[300];
    dash_status_t st = load_workers(ctx, &docs, &n, why, sizeof why);
    if (st != DASH_OK)
        agg_warn("metrics_redis", "error=\"%s\"", why);
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    int rc = out ? 0 : -1;
    if (rc == 0 && st == DASH_OK)
        rc = dash_metrics_workers(out, docs, n);
    if (rc == 0)
        rc = own_counters(out, st == DASH_OK, n);
    if (out && fclose(out) != 0)
        rc = -1;
    for (size_t i = 0; i < n; i++)
        json_decref(docs[i]);
    free(docs);
    if (rc != 0) {
        free(buf);
        agg_fail(errstr, errstr_size, "cannot format the metrics");
        return DASH_FAILED;
    }
    *text = buf;
    *len = size;
    return DASH_OK;
}
