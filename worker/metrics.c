/* metrics.c: counters, lag, the periodic metrics line, JSON and Redis hash. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

void worker_note_error(worker_run_t *w, const char *event, const char *err) {
    unsigned long suppressed = 0;
    snprintf(w->last_error, sizeof w->last_error, "%.200s", err);
    /* Retries during an outage repeat the same error: one line per 5 s per event. */
    if (agg_log_every(event, 5000, &suppressed))
        agg_warn(event, "suppressed=%lu error=\"%s\"", suppressed, err);
}


static long long total_lag(worker_run_t *w) {
    long long lag = 0;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        int64_t lo = -1, hi = -1;
        if (!p->used)
            continue;
        if (rd_kafka_get_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi) ||
            hi < 0)
            continue;
        int64_t from = p->expected >= 0 ? p->expected : lo;
        if (hi > from)
            lag += hi - from;
    }
    return lag;
}

void metrics_report(worker_run_t *w) {
    char json[1024], errq[300];
    size_t j = 0;
    for (const char *s = w->last_error; *s && j + 2 < sizeof errq; s++) {
        if (*s == '"' || *s == '\\')
            errq[j++] = '\\';
        errq[j++] = (*s >= 0x20) ? *s : ' ';
    }
    errq[j] = '\0';
    long long lag = total_lag(w);
    unsigned long long dlq = dlq_count(w->dlq);
    agg_info("metrics",
             "records_applied=%llu records_unchanged=%llu dlq=%llu batches=%llu lag=%lld "
             "redis_roundtrips=%llu fenced=%llu conflicts=%llu redis_errors=%llu offsets_moved=%llu "
             "last_error=\"%s\"",
             w->c.records_applied, w->c.records_unchanged, dlq, w->c.batches, lag,
             store_roundtrips(w->store), w->c.fenced, w->c.conflicts, w->c.redis_errors,
             w->c.offsets_moved, errq);
    int n = snprintf(json, sizeof json,
                     "{\"member\":\"%s\",\"time_ms\":%lld,\"records_applied\":%llu,"
                     "\"records_unchanged\":%llu,\"dlq\":%llu,\"batches\":%llu,\"lag\":%lld,"
                     "\"redis_roundtrips\":%llu,\"fenced\":%llu,\"conflicts\":%llu,"
                     "\"redis_errors\":%llu,\"offsets_moved\":%llu,\"last_error\":\"%s\"}",
                     w->member, agg_now_ms(), w->c.records_applied, w->c.records_unchanged,
                     dlq, w->c.batches, lag, store_roundtrips(w->store), w->c.fenced,
                     w->c.conflicts, w->c.redis_errors, w->c.offsets_moved, errq);
    if (w->conf->metrics_json && n > 0) {
        fputs(json, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    /* Also in Redis for dashboards of the pipeline itself; best effort, never stalls. */
    char key[AGG_KEY_MAX], err[256];
    redisReply *r;
    if (store_connected(w->store) &&
        agg_key_metrics(key, sizeof key, w->conf->key_prefix, w->member) > 0 && n > 0) {
        const char *argv[] = {"SET", key, json, "EX", "300"};
        size_t lens[] = {3, strlen(key), (size_t)n, 2, 3};
        if (store_append(w->store, 5, argv, lens, err, sizeof err) == STORE_OK)
            store_reply(w->store, &r, err, sizeof err);
    }
}
