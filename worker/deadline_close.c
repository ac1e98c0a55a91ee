/* deadline_close.c: closes a quarter whose reporting deadline has passed (SPEC 8).
 *
 * Every worker looks at the quarters it owns partitions of; when one is past its
 * deadline and still open, the worker that takes the quarter's lock in Redis writes
 * the close markers (requested_by "deadline") to every partition and records that in
 * the quarter's state (deadline_markers_ms), so the others, seeing it, do nothing. The
 * close itself then happens as for any marker: aligned, decided by the last one. If
 * the writer dies before recording, its lock expires and another writes them again;
 * extra markers on a closed partition change nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "summary_sender.h"
#include "worker_run.h"

#define DEADLINE_LOCK_TTL_MS 60000

static void close_one(worker_run_t *w, const part_t *p, int year, int quarter,
                      int64_t deadline) {
    char state[AGG_KEY_MAX], lock[AGG_KEY_MAX], what[32], err[512], ttl[16], now_s[24];
    redisReply *r;
    snprintf(what, sizeof what, "deadline:%s", p->qid);
    if (agg_key_state(state, sizeof state, w->conf->key_prefix, p->qid) < 0 ||
        agg_key_lock(lock, sizeof lock, w->conf->key_prefix, what) < 0)
        return;
    const char *hm[] = {"HMGET", state, "status", "deadline_markers_ms"};
    if (store_command(w->store, &r, err, sizeof err, 4, hm) != STORE_OK ||
        r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return;
    if ((r->element[0]->str && strcmp(r->element[0]->str, "closed") == 0) ||
        r->element[1]->type == REDIS_REPLY_STRING)
        return; /* closed, or the markers are written: someone did it */
    snprintf(ttl, sizeof ttl, "%d", DEADLINE_LOCK_TTL_MS);
    const char *set[] = {"SET", lock, w->member, "NX", "PX", ttl};
    if (store_command(w->store, &r, err, sizeof err, 6, set) != STORE_OK ||
        r->type != REDIS_REPLY_STATUS)
        return; /* another worker holds the lock */

    int n = agg_kafka_partition_count(w->rk, p->topic, 10000, err, sizeof err);
    if (n <= 0) {
        worker_note_error(w, "deadline_close_failed", n == 0 ? "topic gone" : err);
        return;
    }
    agg_close_t mk = {.year = year, .quarter = quarter, .requested_ms = agg_now_ms(),
                      .partitions = n, .deadline_ms = deadline, .requested_by = "deadline"};
    uint8_t *value = NULL;
    long len = agg_encode_close(&mk, &value);
    if (len < 0) {
        worker_note_error(w, "deadline_close_failed", "out of memory");
        return;
    }
    int rc = sender_produce_partitions(w->sender, p->topic, n, value, (size_t)len, err,
                                       sizeof err);
    free(value);
    if (rc != 0) {
        worker_note_error(w, "deadline_close_failed", err);
        return; /* the lock expires; whoever holds it next writes them */
    }
    snprintf(now_s, sizeof now_s, "%lld", agg_now_ms());
    const char *hs[] = {"HSET", state, "deadline_markers_ms", now_s};
    if (store_command(w->store, &r, err, sizeof err, 4, hs) != STORE_OK)
        worker_note_error(w, "redis_unavailable", err);
    agg_info("deadline_close", "quarter=%s topic=%s partitions=%d deadline_ms=%lld",
             p->qid, p->topic, n, (long long)deadline);
}

void deadline_check(worker_run_t *w) {
    char err[256];
    if (w->conf->no_deadline_close || store_connect(w->store, err, sizeof err) != STORE_OK)
        return;
    int64_t now = agg_now_ms();
    for (size_t i = 0; i < w->nparts; i++) {
        const part_t *p = &w->parts[i];
        int year, quarter;
        if (!p->used || !p->qid[0] || p->past_marker ||
            agg_quarter_parse(p->qid, strlen(p->qid), &year, &quarter) != 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = w->parts[k].used && strcmp(w->parts[k].qid, p->qid) == 0;
        int64_t deadline = agg_deadline_ms(&w->conf->deadlines, year, quarter);
        if (!seen && deadline > 0 && now >= deadline)
            close_one(w, p, year, quarter, deadline);
    }
}
