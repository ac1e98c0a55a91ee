/* consume.c: the worker's main loop.
 *
 * poll -> per-partition batches -> DLQ the rejects and wait for their acks -> read the
 * stored states of the batch's records -> one apply.lua call per partition batch, all
 * pipelined -> the partition's offset has moved with its data.
 *
 * Offsets live in Redis, not in Kafka: on assignment each partition is positioned at its
 * stored offset, and each batch names the offset it starts from, so a batch that does
 * not follow the stored one (a zombie after a rebalance, a retry of a batch that did
 * land) is refused by the script. Kafka's committed offsets are updated too, but only
 * for monitoring (consumer-group lag); they are never read back. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg/kafka.h"
#include "agg/log.h"
#include "worker.h"
#include "worker_run.h"

#define CONFLICT_RETRIES 10

typedef struct {
    bool used;
    char topic[256];
    int32_t partition;
    int64_t expected; /* next offset the stored state expects; -1 = none stored */
    batch_t *batch;
    bool batch_open;
    /* Rejected messages, held until the batch is applied or dropped: the DLQ copy needs
     * their bytes and headers. Every other message is released as soon as the batch has
     * decoded it (the batch keeps its own copy), so a batch costs its records only. */
    rd_kafka_message_t **held;
    size_t nheld, held_cap;
    bool dlq_sent; /* rejects of the open batch already acknowledged by the DLQ */
    /* A seek back to the stored offset failed: until one succeeds, the consumer's
     * position is not where the stored state expects, so messages are dropped. */
    bool seek_pending;
    long long seek_retry_ms;
} part_t;

typedef struct {
    unsigned long long records_applied, records_unchanged, rejects, batches, fenced,
        conflicts, redis_errors, messages;
} counters_t;

struct worker_run {
    const worker_conf_t *conf;
    rd_kafka_t *rk;
    store_t *store;
    dlq_t *dlq;
    part_t *parts;
    size_t nparts;
    size_t pending; /* messages in open batches (decoded; only rejects still held) */
    long long batch_started_ms;
    long long last_activity_ms;
    counters_t c;
    char last_error[256];
    char member[128];
    int exit_code;
    long long flush_deadline_ms; /* 0 = none; bounds the last flush of a graceful stop */
    rd_kafka_queue_t *consumer_q;
    size_t prefetch_max;   /* effective queued.min.messages */
    bool fetcher_may_park; /* the prefetch queue came near prefetch_max since the last wake */
};

/* ---------------------------------------------------------------- partitions */

static part_t *part_find(worker_run_t *w, const char *topic, int32_t partition) {
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].used && w->parts[i].partition == partition &&
            strcmp(w->parts[i].topic, topic) == 0)
            return &w->parts[i];
    return NULL;
}

static part_t *part_add(worker_run_t *w, const char *topic, int32_t partition) {
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
    return p;
}

static void part_drop_batch(worker_run_t *w, part_t *p) {
    for (size_t i = 0; i < p->nheld; i++)
        rd_kafka_message_destroy(p->held[i]);
    p->nheld = 0;
    if (p->batch_open)
        w->pending -= batch_count(p->batch);
    p->batch_open = false;
    p->dlq_sent = false;
}

static void part_remove(worker_run_t *w, part_t *p) {
    part_drop_batch(w, p);
    p->used = false;
}

/* ---------------------------------------------------------------- backoff */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sleeps the next step of an exponential backoff (100 ms .. 5 s), in short slices so a
 * stop request is seen quickly. */
static void backoff(long *delay_ms) {
    for (long slept = 0; slept < *delay_ms && !worker_stop; slept += 100)
        sleep_ms(100);
    *delay_ms = *delay_ms * 2 > 5000 ? 5000 : *delay_ms * 2;
}

static void note_error(worker_run_t *w, const char *event, const char *err) {
    unsigned long suppressed = 0;
    snprintf(w->last_error, sizeof w->last_error, "%.200s", err);
    /* Retries during an outage repeat the same error: one line per 5 s per event. */
    if (agg_log_every(event, 5000, &suppressed))
        agg_warn(event, "suppressed=%lu error=\"%s\"", suppressed, err);
}

/* ---------------------------------------------------------------- applying */

static void commit_to_kafka(worker_run_t *w, const part_t *p) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->expected;
    /* Monitoring only (see top of file): async, errors are logged by librdkafka. */
    rd_kafka_resp_err_t err = rd_kafka_commit(w->rk, l, 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        agg_debug("kafka_commit_failed", "error=\"%s\"", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Moves the consumer back to the offset the stored state expects. Until that succeeds
 * the partition's messages are dropped (on_message() retries), never applied: applying
 * from anywhere else would skip or repeat messages. */
static void seek_to_stored(worker_run_t *w, part_t *p, int64_t stored) {
    p->expected = stored;
    p->seek_pending = true;
    p->seek_retry_ms = agg_mono_ms() + 1000;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l) {
        note_error(w, "seek_failed", "out of memory");
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

/* Sends the rejects of every open batch to the DLQ and waits for the acks. */
static int send_rejects(worker_run_t *w) {
    char err[256];
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->batch_open || p->dlq_sent)
            continue;
        const batch_reject_t *rj;
        size_t n = batch_rejects(p->batch, &rj);
        for (size_t k = 0; k < n; k++) {
            if (dlq_send(w->dlq, rj[k].msg.opaque, rj[k].reason, err, sizeof err) != 0) {
                note_error(w, "dlq_error", err);
                return -1;
            }
        }
    }
    if (dlq_wait(w->dlq) != 0)
        return -1;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (p->used && p->batch_open && !p->dlq_sent) {
            const batch_reject_t *rj;
            w->c.rejects += batch_rejects(p->batch, &rj);
            p->dlq_sent = true;
        }
    }
    return 0;
}

/* Handles the script's answer for one partition batch. Returns 1 when the batch is done
 * (applied, or dropped because it was fenced), 0 to retry it, -1 fatal. */
static int on_apply_reply(worker_run_t *w, part_t *p, const redisReply *r) {
    char err[256];
    int64_t end = batch_last_offset(p->batch) + 1;

    if (r->type == REDIS_REPLY_ERROR) {
        store_rc_t rc = store_classify_error(w->store, r, err, sizeof err);
        note_error(w, rc == STORE_FATAL ? "apply_failed" : "apply_retry", err);
        return rc == STORE_FATAL ? -1 : 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        (r->element[0]->type != REDIS_REPLY_STATUS && r->element[0]->type != REDIS_REPLY_STRING)) {
        note_error(w, "apply_failed", "unexpected reply from apply.lua");
        return -1;
    }
    const char *status = r->element[0]->str;
    if (strcmp(status, "OK") == 0) {
        p->expected = end;
        w->c.records_applied += batch_applied(p->batch);
        w->c.records_unchanged += batch_unchanged(p->batch);
        w->c.batches++;
        agg_debug("batch_applied", "topic=%s partition=%d offset=%" PRId64 " messages=%zu",
                  p->topic, p->partition, end, batch_count(p->batch));
        commit_to_kafka(w, p);
        part_drop_batch(w, p);
        return 1;
    }
    if (strcmp(status, "FENCED") == 0 && r->elements == 2) {
        const char *s = r->element[1]->str;
        int64_t stored = s && s[0] ? strtoll(s, NULL, 10) : -1;
        if (stored == end) {
            /* Our own earlier attempt landed but its reply was lost with the connection. */
            p->expected = end;
            w->c.batches++;
            part_drop_batch(w, p);
            return 1;
        }
        w->c.fenced++;
        agg_warn("batch_fenced",
                 "topic=%s partition=%d expected=%" PRId64 " stored=%" PRId64
                 " action=seek_to_stored",
                 p->topic, p->partition, p->expected, stored);
        part_drop_batch(w, p);
        seek_to_stored(w, p, stored);
        return 1;
    }
    if (strcmp(status, "CONFLICT") == 0) {
        w->c.conflicts++;
        agg_warn("batch_conflict", "topic=%s partition=%d key=%s field=%s", p->topic,
                 p->partition, r->elements > 1 ? r->element[1]->str : "?",
                 r->elements > 2 ? r->element[2]->str : "?");
        return 0;
    }
    note_error(w, "apply_failed", "unknown status from apply.lua");
    return -1;
}

/* One pass: pipelined state reads, then pipelined scripts. Returns 1 when every open
 * batch is done, 0 to try again, -1 on a fatal error. */
static int apply_pass(worker_run_t *w) {
    char err[256];
    store_rc_t rc;
    int argc;
    const char **argv;
    const size_t *argvlen;
    redisReply *r;

    if ((rc = store_connect(w->store, err, sizeof err)) != STORE_OK) {
        w->c.redis_errors++;
        note_error(w, "redis_unavailable", err);
        return rc == STORE_FATAL ? -1 : 0;
    }
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->batch_open)
            continue;
        size_t n = batch_read_cmds(p->batch);
        for (size_t k = 0; k < n; k++) {
            batch_read_cmd(p->batch, k, &argc, &argv, &argvlen);
            if (store_append(w->store, argc, argv, argvlen, err, sizeof err) != STORE_OK)
                goto transient;
        }
    }
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->batch_open)
            continue;
        size_t n = batch_read_cmds(p->batch);
        for (size_t k = 0; k < n; k++) {
            if (store_reply(w->store, &r, err, sizeof err) != STORE_OK)
                goto transient;
            if (r->type == REDIS_REPLY_ERROR) {
                rc = store_classify_error(w->store, r, err, sizeof err);
                note_error(w, "redis_error", err);
                /* The rest of this pipeline's replies are unread: start afresh, or they
                 * would be taken for the answers to the next commands. */
                store_disconnect(w->store);
                return rc == STORE_FATAL ? -1 : 0;
            }
            if (batch_read_reply(p->batch, k, r, err, sizeof err) != 0) {
                note_error(w, "corrupt_state", err);
                return -1;
            }
        }
    }
    long long now = agg_now_ms();
    size_t sent = 0;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->batch_open)
            continue;
        if (batch_script_args(p->batch, p->expected, now, &argc, &argv, &argvlen, err,
                              sizeof err) != 0) {
            note_error(w, "apply_failed", err);
            return -1;
        }
        if (store_append_apply(w->store, argc, argv, argvlen, err, sizeof err) != STORE_OK)
            goto transient;
        sent++;
    }
    int all_done = 1;
    for (size_t i = 0; i < w->nparts && sent > 0; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->batch_open)
            continue;
        if (store_reply(w->store, &r, err, sizeof err) != STORE_OK)
            goto transient;
        sent--;
        int done = on_apply_reply(w, p, r);
        if (done < 0) {
            store_disconnect(w->store);
            return -1;
        }
        if (done == 0)
            all_done = 0;
    }
    return all_done;

transient:
    w->c.redis_errors++;
    note_error(w, "redis_unavailable", err);
    return 0;
}

/* Applies every open batch; stalls through Redis and broker outages. Returns 0 when all
 * are applied (or dropped as fenced), -1 when stopped first or on a fatal error. */
static int flush(worker_run_t *w) {
    long delay = 100;
    int conflicts = 0;

    if (w->pending == 0)
        return 0;
    while (send_rejects(w) != 0) {
        if (worker_stop || (w->flush_deadline_ms && agg_mono_ms() > w->flush_deadline_ms))
            return -1;
        backoff(&delay);
    }
    delay = 100;
    for (;;) {
        int rc = apply_pass(w);
        if (rc == 1)
            break;
        if (rc < 0) {
            w->exit_code = 1;
            worker_stop = 1;
            return -1;
        }
        if (worker_stop || (w->flush_deadline_ms && agg_mono_ms() > w->flush_deadline_ms))
            return -1;
        if (store_connected(w->store) && ++conflicts <= CONFLICT_RETRIES)
            continue; /* a compare-and-set conflict: re-read and recompute at once */
        backoff(&delay);
        conflicts = 0;
    }
    w->batch_started_ms = 0;
    return 0;
}

/* ---------------------------------------------------------------- rebalance */

static void on_assign(worker_run_t *w, rd_kafka_topic_partition_list_t *parts) {
    char err[256], key[AGG_KEY_MAX];
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t stored = -1;
        long delay = 100;
        if (agg_key_offsets(key, sizeof key, w->conf->key_prefix, tp->topic) < 0) {
            agg_error("topic_name_too_long", "topic=%s", tp->topic);
            continue;
        }
        for (;;) {
            store_rc_t rc = store_connect(w->store, err, sizeof err);
            if (rc == STORE_OK)
                rc = store_read_offset(w->store, key, tp->partition, &stored, err, sizeof err);
            if (rc == STORE_OK)
                break;
            note_error(w, "redis_unavailable", err);
            if (rc == STORE_FATAL || worker_stop) {
                worker_stop = 1;
                if (rc == STORE_FATAL)
                    w->exit_code = 1;
                return;
            }
            backoff(&delay);
        }
        tp->offset = stored >= 0 ? stored : RD_KAFKA_OFFSET_BEGINNING;
        part_t *p = part_add(w, tp->topic, tp->partition);
        if (!p) {
            agg_error("out_of_memory", "what=partition");
            abort();
        }
        p->expected = stored;
        agg_info("partition_assigned", "topic=%s partition=%d offset=%" PRId64, tp->topic,
                 tp->partition, stored);
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    worker_run_t *w = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

    w->last_activity_ms = agg_mono_ms();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(w, parts);
        if (worker_stop && w->exit_code)
            return;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
    } else {
        if (rd_kafka_assignment_lost(rk)) {
            agg_warn("assignment_lost", "partitions=%d action=drop_batches", parts->cnt);
        } else {
            /* Still ours until we return: apply what we hold for them. */
            flush(w);
        }
        for (int i = 0; i < parts->cnt; i++) {
            part_t *p = part_find(w, parts->elems[i].topic, parts->elems[i].partition);
            if (p)
                part_remove(w, p);
            agg_info("partition_revoked", "topic=%s partition=%d", parts->elems[i].topic,
                     parts->elems[i].partition);
        }
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        agg_error("assign_failed", "error=\"%s\"", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (aerr) {
        agg_error("assign_failed", "error=\"%s\"", rd_kafka_err2str(aerr));
    }
}

/* ---------------------------------------------------------------- metrics */

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

static void report_metrics(worker_run_t *w) {
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
             "redis_roundtrips=%llu fenced=%llu conflicts=%llu redis_errors=%llu "
             "last_error=\"%s\"",
             w->c.records_applied, w->c.records_unchanged, dlq, w->c.batches, lag,
             store_roundtrips(w->store), w->c.fenced, w->c.conflicts, w->c.redis_errors,
             errq);
    int n = snprintf(json, sizeof json,
                     "{\"member\":\"%s\",\"time_ms\":%lld,\"records_applied\":%llu,"
                     "\"records_unchanged\":%llu,\"dlq\":%llu,\"batches\":%llu,\"lag\":%lld,"
                     "\"redis_roundtrips\":%llu,\"fenced\":%llu,\"conflicts\":%llu,"
                     "\"redis_errors\":%llu,\"last_error\":\"%s\"}",
                     w->member, agg_now_ms(), w->c.records_applied, w->c.records_unchanged,
                     dlq, w->c.batches, lag, store_roundtrips(w->store), w->c.fenced,
                     w->c.conflicts, w->c.redis_errors, errq);
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

/* ---------------------------------------------------------------- prefetch */

/* librdkafka 2.0.2 stops fetching once the prefetch queue holds queued.min.messages and
 * looks again only when its broker thread next wakes, up to 1 s later (2.3.0 added
 * fetch.queue.backoff.ms for this). A small prefetch, which is what keeps the worker's
 * memory flat, would then starve it. So when the worker has drained the queue after it
 * came near the bound, it wakes the fetchers itself: a seek of every assigned partition
 * to its current position (the next offset the application would get, so nothing is
 * skipped or repeated). The queue being empty, the seek discards nothing queued; a fetch
 * response in flight at that moment is dropped and fetched again. While the worker keeps
 * up (live tailing) the queue never comes near the bound and nothing is sought. */
static void mark_fetcher_may_park(worker_run_t *w) {
    if (w->prefetch_max && rd_kafka_queue_length(w->consumer_q) >= w->prefetch_max / 2)
        w->fetcher_may_park = true;
}

static void wake_fetchers(worker_run_t *w) {
    if (!w->fetcher_may_park || rd_kafka_queue_length(w->consumer_q) > 0)
        return;
    w->fetcher_may_park = false;
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(w->rk, &list);
    if (!err)
        err = rd_kafka_position(w->rk, list);
    if (!err) {
        rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(list->cnt);
        for (int i = 0; at && i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &list->elems[i];
            const part_t *p = part_find(w, tp->topic, tp->partition);
            /* No position yet (nothing consumed, or just sought): nothing to keep. */
            if (tp->offset < 0 || !p || p->seek_pending)
                continue;
            rd_kafka_topic_partition_list_add(at, tp->topic, tp->partition)->offset =
                tp->offset;
        }
        if (at && at->cnt > 0) {
            rd_kafka_error_t *e = rd_kafka_seek_partitions(w->rk, at, 0 /* async */);
            if (e) {
                note_error(w, "fetch_wake_failed", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        }
        if (at)
            rd_kafka_topic_partition_list_destroy(at);
    } else {
        note_error(w, "fetch_wake_failed", rd_kafka_err2str(err));
    }
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
}

/* ---------------------------------------------------------------- main loop */

static void on_message(worker_run_t *w, rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    part_t *p = part_find(w, topic, m->partition);
    if (!p) {
        rd_kafka_message_destroy(m); /* from a partition no longer ours */
        return;
    }
    if (p->seek_pending) {
        if (agg_mono_ms() >= p->seek_retry_ms)
            seek_to_stored(w, p, p->expected);
        rd_kafka_message_destroy(m); /* fetched from the old position */
        return;
    }
    if (p->expected >= 0 && m->offset < p->expected) {
        rd_kafka_message_destroy(m); /* already applied: a redelivery */
        return;
    }
    if (!p->batch_open) {
        if (batch_reset(p->batch, topic, m->partition) != 0) {
            agg_warn("not_a_quarter_topic", "topic=%s", topic);
            rd_kafka_message_destroy(m);
            return;
        }
        p->batch_open = true;
        p->dlq_sent = false;
        if (w->batch_started_ms == 0)
            w->batch_started_ms = agg_mono_ms();
    }
    batch_msg_t v = {.key = m->key,
                     .key_len = m->key_len,
                     .value = m->payload,
                     .value_len = m->len,
                     .offset = m->offset,
                     .opaque = m};
    const batch_reject_t *rejects;
    size_t nrejects = batch_rejects(p->batch, &rejects);
    int ended = batch_add(p->batch, &v);
    w->pending++;
    w->c.messages++;
    if (batch_rejects(p->batch, &rejects) == nrejects) {
        rd_kafka_message_destroy(m);
    } else {
        if (p->nheld == p->held_cap) {
            size_t ncap = p->held_cap ? p->held_cap * 2 : 16;
            rd_kafka_message_t **nh = realloc(p->held, ncap * sizeof *nh);
            if (!nh) {
                agg_error("out_of_memory", "what=rejected_messages");
                abort();
            }
            p->held = nh;
            p->held_cap = ncap;
        }
        p->held[p->nheld++] = m;
    }
    if (ended == 1) {
        /* A close marker ends the batch: what follows it is applied after it. */
        flush(w);
    }
}

static void on_consumer_error(worker_run_t *w, rd_kafka_message_t *m) {
    char fatal[256];
    if (m->err == RD_KAFKA_RESP_ERR__FATAL &&
        rd_kafka_fatal_error(w->rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        agg_error("kafka_fatal", "error=\"%s\"", fatal);
        w->exit_code = 1;
        worker_stop = 1;
        return;
    }
    /* Broker down, topic gone, ...: librdkafka retries on its own; we stall meanwhile. */
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
    unsigned long suppressed = 0;
    if (agg_log_every(rd_kafka_err2name(m->err), 10000, &suppressed))
        agg_warn("kafka_error", "topic=%s partition=%d suppressed=%lu error=\"%s\"", topic,
                 m->partition, suppressed, rd_kafka_message_errstr(m));
    snprintf(w->last_error, sizeof w->last_error, "%s", rd_kafka_message_errstr(m));
}

int worker_run(const worker_conf_t *conf) {
    char err[512], pattern[300];
    worker_run_t w = {.conf = conf};
    static const char *const defaults[] = {
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        /* A new quarter's topic must be picked up within 30 s (pattern subscription). */
        "topic.metadata.refresh.interval.ms", "10000",
        "enable.partition.eof", "false",
        /* A killed worker's partitions move after this long (librdkafka's 45 s default
         * stalls them for too long); -X group.instance.id=... avoids even that. */
        "session.timeout.ms", "10000",
        /* The prefetch bound, in messages (librdkafka's default, 100,000, is ~65 MiB of
         * queued messages here); see wake_fetchers(). */
        "queued.min.messages", "30000",
        NULL,
    };
    char host[64] = "worker";
    gethostname(host, sizeof host - 1);
    snprintf(w.member, sizeof w.member, "%s:%d", host, (int)getpid());

    rd_kafka_conf_t *kc = agg_kafka_conf_new(conf->bootstrap, defaults, &conf->kprops, err,
                                             sizeof err);
    if (!kc) {
        agg_error("config", "error=\"%s\"", err);
        return 2;
    }
    if (rd_kafka_conf_set(kc, "group.id", conf->group, err, sizeof err) != RD_KAFKA_CONF_OK) {
        agg_error("config", "error=\"group.id: %s\"", err);
        rd_kafka_conf_destroy(kc);
        return 2;
    }
    char qmin[32];
    size_t qmin_len = sizeof qmin;
    if (rd_kafka_conf_get(kc, "queued.min.messages", qmin, &qmin_len) == RD_KAFKA_CONF_OK)
        w.prefetch_max = (size_t)strtoull(qmin, NULL, 10);
    rd_kafka_conf_set_opaque(kc, &w);
    rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);

    w.store = store_new(&conf->redis);
    w.dlq = dlq_new(conf, err, sizeof err);
    if (!w.store || !w.dlq) {
        agg_error("startup", "error=\"%s\"", w.dlq ? "out of memory" : err);
        rd_kafka_conf_destroy(kc);
        store_free(w.store);
        dlq_free(w.dlq);
        return 1;
    }
    w.rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!w.rk) {
        agg_error("startup", "error=\"%s\"", err);
        rd_kafka_conf_destroy(kc);
        store_free(w.store);
        dlq_free(w.dlq);
        return 1;
    }
    rd_kafka_poll_set_consumer(w.rk);
    w.consumer_q = rd_kafka_queue_get_consumer(w.rk);

    /* The DLQ must exist before a reject can be parked there (brokers usually refuse
     * auto-creation). Waits for the broker rather than failing at startup. */
    for (long delay = 100; !worker_stop;) {
        if (agg_kafka_ensure_topic(w.rk, conf->dlq_topic, (int)conf->dlq_partitions, -1,
                                   10000, err, sizeof err) > 0)
            break;
        note_error(&w, "dlq_topic_unavailable", err);
        backoff(&delay);
    }

    /* librdkafka treats a leading '^' as a regex subscription. */
    size_t j = 0;
    pattern[j++] = '^';
    for (const char *s = conf->topic_prefix; *s && j + 24 < sizeof pattern; s++) {
        if (strchr(".^$*+?()[]{}|\\", *s))
            pattern[j++] = '\\';
        pattern[j++] = *s;
    }
    snprintf(pattern + j, sizeof pattern - j, "[0-9]{4}-Q[1-4]$");
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, pattern, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(w.rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (serr) {
        agg_error("subscribe_failed", "pattern=%s error=\"%s\"", pattern, rd_kafka_err2str(serr));
        w.exit_code = 1;
        worker_stop = 1;
    } else {
        agg_info("started", "member=%s group=%s pattern=%s redis=%s:%d dlq=%s", w.member,
                 conf->group, pattern, conf->redis.host, conf->redis.port, conf->dlq_topic);
    }

    long long next_metrics = agg_mono_ms() + conf->metrics_interval_ms;
    w.last_activity_ms = agg_mono_ms();
    while (!worker_stop) {
        /* Block only when nothing is held; otherwise drain what is queued locally and
         * apply as soon as the queue is empty, the batch is full or batch_ms passed. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(w.rk, w.pending ? 0 : 100);
        long long now = agg_mono_ms();
        if (m) {
            w.last_activity_ms = now;
            if (m->err)
                on_consumer_error(&w, m), rd_kafka_message_destroy(m);
            else
                on_message(&w, m);
        }
        bool full = w.pending >= (size_t)conf->batch_size;
        if (full)
            mark_fetcher_may_park(&w);
        if (!m)
            wake_fetchers(&w); /* before applying, so the fetch overlaps the Redis work */
        if (w.pending && (!m || full || now - w.batch_started_ms >= conf->batch_ms))
            flush(&w);
        if (now >= next_metrics) {
            report_metrics(&w);
            next_metrics = now + conf->metrics_interval_ms;
        }
        if (conf->exit_idle_ms > 0 && !w.pending &&
            now - w.last_activity_ms >= conf->exit_idle_ms) {
            agg_info("idle_exit", "idle_ms=%lld", now - w.last_activity_ms);
            break;
        }
    }

    /* Graceful stop: apply what is held (unless Redis is unreachable: then it stays
     * unapplied and its offsets unmoved, and the next owner re-reads it), leave the group,
     * deliver the DLQ. */
    if (w.pending && !w.exit_code) {
        worker_stop = 0; /* let one last flush run its retries, for a bounded time */
        w.flush_deadline_ms = agg_mono_ms() + 15000;
        if (flush(&w) != 0)
            agg_warn("stop_with_unapplied_batch",
                     "messages=%zu note=\"offsets not moved; the next owner re-reads them\"",
                     w.pending);
    }
    worker_stop = 1;
    report_metrics(&w);
    rd_kafka_resp_err_t cerr = rd_kafka_consumer_close(w.rk);
    if (cerr)
        agg_warn("consumer_close", "error=\"%s\"", rd_kafka_err2str(cerr));
    for (size_t i = 0; i < w.nparts; i++) {
        part_remove(&w, &w.parts[i]);
        batch_free(w.parts[i].batch);
        free(w.parts[i].held);
    }
    free(w.parts);
    if (w.consumer_q)
        rd_kafka_queue_destroy(w.consumer_q);
    rd_kafka_destroy(w.rk);
    dlq_free(w.dlq);
    store_free(w.store);
    agg_info("stopped", "exit_code=%d", w.exit_code);
    return w.exit_code;
}
