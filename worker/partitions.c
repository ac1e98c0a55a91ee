/* partitions.c: the worker's table of owned partitions, each with the offset the stored
 * state in Redis expects next (cached; re-read on assignment and after a fence). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

part_t *part_find(worker_run_t *w, const char *topic, int32_t partition) {
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].used && w->parts[i].partition == partition &&
            strcmp(w->parts[i].topic, topic) == 0)
            return &w->parts[i];
    return NULL;
}

part_t *part_add(worker_run_t *w, const char *topic, int32_t partition) {
    part_t *p = part_find(w, topic, partition);
    if (p)
        return p;
    for (size_t i = 0; i < w->nparts && !p; i++)
        if (!w->parts[i].used)
            p = &w->parts[i];
    if (!p) {
        part_t *np = realloc(w->parts, (w->nparts + 1) * sizeof *np);
        if (!np)
            return NULL;
        w->parts = np;
        p = &w->parts[w->nparts++];
        memset(p, 0, sizeof *p);
    }
    if (strlen(topic) >= sizeof p->topic)
        return NULL;
    if (!p->batch && !(p->batch = batch_new(w->conf)))
        return NULL;
    p->used = true;
    strcpy(p->topic, topic);
    p->partition = partition;
    p->expected = -1;
    p->batch_open = false;
    p->seek_pending = false;
    p->past_marker = p->close_held = p->replay_held = p->refused = false;
    int year, quarter;
    if (agg_quarter_from_topic(topic, w->conf->topic_prefix, &year, &quarter) != 0 ||
        agg_quarter_format(year, quarter, p->qid, sizeof p->qid) != 0)
        p->qid[0] = '\0'; /* not a quarter topic: its messages are refused by the batch */
    return p;
}

void part_drop_batch(worker_run_t *w, part_t *p) {
    for (size_t i = 0; i < p->nheld; i++)
        rd_kafka_message_destroy(p->held[i]);
    p->nheld = 0;
    if (p->batch_open)
        w->pending -= batch_count(p->batch);
    p->batch_open = false;
    p->dlq_sent = false;
}

void part_remove(worker_run_t *w, part_t *p) {
    part_drop_batch(w, p);
    p->used = false;
}


/* Moves the consumer back to the offset the stored state expects. Until that succeeds
 * the partition's messages are dropped (on_message() retries), never applied: applying
 * from anywhere else would skip or repeat messages. */
void part_seek_to_stored(worker_run_t *w, part_t *p, int64_t stored) {
    p->expected = stored;
    p->seek_pending = true;
    p->seek_retry_ms = agg_mono_ms() + 1000;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l) {
        worker_note_error(w, "seek_failed", "out of memory");
        return;
    }
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
        stored >= 0 ? stored : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *err = rd_kafka_seek_partitions(w->rk, l, 5000);
    if (err) {
        agg_warn("seek_failed", "topic=%s partition=%d offset=%" PRId64 " error=\"%s\"",
                 p->topic, p->partition, stored, rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
    } else if (l->elems[0].err) {
        agg_warn("seek_failed", "topic=%s partition=%d offset=%" PRId64 " error=\"%s\"",
                 p->topic, p->partition, stored, rd_kafka_err2str(l->elems[0].err));
    } else {
        p->seek_pending = false;
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static const char *key_of(worker_run_t *w, const part_t *p, char *key, size_t size) {
    if (agg_key_offsets(key, size, w->conf->key_prefix, p->topic) < 0)
        key[0] = '\0';
    return key;
}

int part_check_offsets(worker_run_t *w) {
    char err[256], key[AGG_KEY_MAX];
    store_rc_t rc = store_connect(w->store, err, sizeof err);
    if (rc != STORE_OK) {
        worker_note_error(w, "redis_unavailable", err);
        return -1;
    }
    unsigned long long generation = store_generation(w->store);
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        int64_t stored = -1;
        /* An open batch names its start offset to the script, which compares it with
         * the stored one (FENCED) in the same step: nothing to check here. */
        if (!p->used || p->batch_open || p->seek_pending || p->replay_held)
            continue;
        if (p->refused) {
            /* A replay (or an operator) may have set the stored offset right again. */
            int64_t now_stored = -1;
            rc = store_read_offset(w->store, key_of(w, p, key, sizeof key), p->partition,
                                   &now_stored, err, sizeof err);
            if (rc != STORE_OK) {
                worker_note_error(w, "redis_unavailable", err);
                return -1;
            }
            p->expected = now_stored;
            if (part_check_log_end(w, p) == 0) {
                agg_info("partition_accepted", "topic=%s partition=%d offset=%" PRId64,
                         p->topic, p->partition, now_stored);
                part_pause(w, p, false);
                part_seek_to_stored(w, p, now_stored);
            }
            continue;
        }
        if (agg_key_offsets(key, sizeof key, w->conf->key_prefix, p->topic) < 0)
            continue; /* refused on assignment */
        rc = store_read_offset(w->store, key, p->partition, &stored, err, sizeof err);
        if (rc != STORE_OK) {
            worker_note_error(w, "redis_unavailable", err);
            return -1;
        }
        if (stored == p->expected)
            continue;
        /* Lower: Redis came back without its last writes (AOF everysec), so what this
         * worker applied since is gone and is applied again from the stored offset,
         * close markers included. Higher: another member applied it (this one is a
         * zombie about to lose the partition). Either way the stored offset rules. */
        agg_warn("stored_offset_moved",
                 "topic=%s partition=%d cached=%" PRId64 " stored=%" PRId64
                 " action=seek_to_stored",
                 p->topic, p->partition, p->expected, stored);
        w->c.offsets_moved++;
        part_seek_to_stored(w, p, stored);
        /* The close marker may be among what Redis lost, or what another member wrote. */
        if (close_read_state(w, p, err, sizeof err) != 0) {
            worker_note_error(w, "redis_unavailable", err);
            return -1;
        }
        if (!p->close_held)
            continue;
        close_pause_held(w);
    }
    w->offsets_generation = generation;
    return 0;
}

void part_pause(worker_run_t *w, part_t *p, bool pause) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return; /* a held partition's messages are dropped anyway */
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    rd_kafka_resp_err_t err =
        pause ? rd_kafka_pause_partitions(w->rk, l) : rd_kafka_resume_partitions(w->rk, l);
    if (err || l->elems[0].err)
        agg_warn(pause ? "pause_failed" : "resume_failed", "topic=%s partition=%d error=\"%s\"",
                 p->topic, p->partition, rd_kafka_err2str(err ? err : l->elems[0].err));
    rd_kafka_topic_partition_list_destroy(l);
}

int part_check_log_end(worker_run_t *w, part_t *p) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi, 5000);
    if (e || hi < 0 || p->expected <= hi) {
        /* Cannot tell (the broker is away): accept; the position check on the first
         * fetch and the fence still hold. */
        p->refused = false;
        return 0;
    }
    if (!p->refused)
        agg_error("stored_offset_beyond_log_end",
                  "topic=%s partition=%d stored=%" PRId64 " end=%" PRId64
                  " action=refused note=\"the topic was deleted and created again, or its "
                  "log truncated: nothing of this partition is applied; recover with "
                  "agg-worker replay --quarter %s\"",
                  p->topic, p->partition, p->expected, hi, p->qid[0] ? p->qid : "?");
    p->refused = true;
    part_pause(w, p, true);
    return -1;
}
