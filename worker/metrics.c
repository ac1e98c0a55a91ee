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


#define LAG_TOPICS_MAX 32 /* topics listed in lag_by_topic (a worker has a few quarters) */

/* Messages behind the high watermarks (as librdkafka last saw them), in all and per
 * topic: "lag_by_topic":{"reports.2024-Q2":12,...} appended to buf (topic names are
 * Kafka's [A-Za-z0-9._-], no escaping needed). */
static long long lag(worker_run_t *w, char *buf, size_t bufsz) {
    long long total = 0, per[LAG_TOPICS_MAX] = {0};
    const char *names[LAG_TOPICS_MAX];
    size_t ntopics = 0;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        int64_t lo = -1, hi = -1;
        if (!p->used)
            continue;
        if (rd_kafka_get_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi) ||
            hi < 0)
            continue;
        int64_t from = p->expected >= 0 ? p->expected : lo;
        long long l = hi > from ? hi - from : 0;
        total += l;
        size_t t = 0;
        while (t < ntopics && strcmp(names[t], p->topic) != 0)
            t++;
        if (t == ntopics && ntopics < LAG_TOPICS_MAX)
            names[ntopics++] = p->topic;
        if (t < ntopics)
            per[t] += l;
    }
    size_t j = 0;
    int n = snprintf(buf, bufsz, "{");
    j = n > 0 ? (size_t)n : 0;
    for (size_t t = 0; t < ntopics && j < bufsz; t++) {
        n = snprintf(buf + j, bufsz - j, "%s\"%s\":%lld", t ? "," : "", names[t], per[t]);
        if (n < 0 || (size_t)n >= bufsz - j)
            break; /* no room: the list stops, the total stays right */
        j += (size_t)n;
    }
    if (j + 2 <= bufsz)
        snprintf(buf + j, bufsz - j, "}");
    else
        snprintf(buf, bufsz, "{}");
    return total;
}

void metrics_report(worker_run_t *w) {
    char json[4096], errq[300], by_topic[2048];
    size_t j = 0;
    for (const char *s = w->last_error; *s && j + 2 < sizeof errq; s++) {
        if (*s == '"' || *s == '\\')
            errq[j++] = '\\';
        errq[j++] = (*s >= 0x20) ? *s : ' ';
    }
    errq[j] = '\0';
    long long total_lag = lag(w, by_topic, sizeof by_topic);
    unsigned long long dlq = dlq_count(w->dlq);
    agg_info("metrics",
             "records_applied=%llu records_unchanged=%llu dlq=%llu batches=%llu lag=%lld "
             "redis_roundtrips=%llu fenced=%llu conflicts=%llu redis_errors=%llu offsets_moved=%llu "
             "last_error=\"%s\"",
             w->c.records_applied, w->c.records_unchanged, dlq, w->c.batches, total_lag,
             store_roundtrips(w->store), w->c.fenced, w->c.conflicts, w->c.redis_errors,
             w->c.offsets_moved, errq);
    int n = snprintf(json, sizeof json,
                     "{\"member\":\"%s\",\"time_ms\":%lld,\"records_applied\":%llu,"
                     "\"records_unchanged\":%llu,\"dlq\":%llu,\"batches\":%llu,\"lag\":%lld,"
                     "\"redis_roundtrips\":%llu,\"fenced\":%llu,\"conflicts\":%llu,"
                     "\"redis_errors\":%llu,\"offsets_moved\":%llu,\"lag_by_topic\":%s,"
                     "\"last_error\":\"%s\"}",
                     w->member, agg_now_ms(), w->c.records_applied, w->c.records_unchanged,
                     dlq, w->c.batches, total_lag, store_roundtrips(w->store), w->c.fenced,
                     w->c.conflicts, w->c.redis_errors, w->c.offsets_moved, by_topic, errq);
    if (n < 0 || (size_t)n >= sizeof json)
        n = -1; /* cannot happen: the parts are bounded; never store a cut JSON */
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
