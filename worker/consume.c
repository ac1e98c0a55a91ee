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
#include "replay.h"
#include "summary_sender.h"
#include "worker_run.h"


static void on_message(worker_run_t *w, rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    part_t *p = part_find(w, topic, m->partition);
    if (!p) {
        rd_kafka_message_destroy(m); /* from a partition no longer ours */
        return;
    }
    if (p->close_held || p->replay_held || p->refused) {
        rd_kafka_message_destroy(m); /* fetched again from the stored offset on resume */
        return;
    }
    if (p->seek_pending) {
        if (agg_mono_ms() >= p->seek_retry_ms)
            part_seek_to_stored(w, p, p->expected);
        rd_kafka_message_destroy(m); /* fetched from the old position */
        return;
    }
    if (w->conf->replay && replay_beyond_end(w, p, m->offset)) {
        rd_kafka_message_destroy(m); /* produced during the replay: the live path's */
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
        /* Past the marker and not held: the quarter is closed, these are late records. */
        batch_set_late_reject(p->batch, w->conf->late_reject && p->past_marker);
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
        /* A marker written before v2 counts the partitions the topic has now (SPEC 8). */
        if (batch_marker(p->batch)->partitions <= 0) {
            char perr[256];
            int n = agg_kafka_partition_count(w->rk, topic, 10000, perr, sizeof perr);
            if (n > 0)
                batch_set_marker_partitions(p->batch, n);
            else
                agg_warn("marker_partitions_unknown", "topic=%s error=\"%s\"", topic,
                         n == 0 ? "no such topic" : perr);
        }
        /* A close marker ends the batch: what follows it is applied after it. */
        apply_flush(w);
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
         * queued messages here); see prefetch_wake(). */
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
    if (!conf->replay)
        rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);

    w.store = store_new(&conf->redis);
    w.dlq = dlq_new(conf, err, sizeof err);
    /* A replay sends nothing: its rejects are in the DLQ already, its summaries are
     * emitted by the swap. */
    if (w.dlq && !conf->replay)
        w.sender = sender_new(conf, w.member, err, sizeof err);
    if (!w.store || !w.dlq || (!w.sender && !conf->replay)) {
        agg_error("startup", "error=\"%s\"", w.store ? err : "out of memory");
        rd_kafka_conf_destroy(kc);
        store_free(w.store);
        dlq_free(w.dlq);
        sender_free(w.sender);
        return 1;
    }
    w.rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!w.rk) {
        agg_error("startup", "error=\"%s\"", err);
        rd_kafka_conf_destroy(kc);
        store_free(w.store);
        dlq_free(w.dlq);
        sender_free(w.sender);
        return 1;
    }
    rd_kafka_poll_set_consumer(w.rk);
    w.consumer_q = rd_kafka_queue_get_consumer(w.rk);

    /* The DLQ must exist before a reject can be parked there (brokers usually refuse
     * auto-creation). Waits for the broker rather than failing at startup. */
    for (long delay = 100; !worker_stop && !conf->replay;) {
        if (agg_kafka_ensure_topic(w.rk, conf->dlq_topic, (int)conf->dlq_partitions, -1,
                                   10000, err, sizeof err) > 0)
            break;
        worker_note_error(&w, "dlq_topic_unavailable", err);
        worker_backoff(&delay);
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
    rd_kafka_resp_err_t serr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (conf->replay) {
        if (replay_assign(&w) != 0) {
            w.exit_code = 1;
            worker_stop = 1;
        }
    } else {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, pattern, RD_KAFKA_PARTITION_UA);
        serr = rd_kafka_subscribe(w.rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
    }
    if (conf->replay) {
        /* assigned above */
    } else if (serr) {
        agg_error("subscribe_failed", "pattern=%s error=\"%s\"", pattern, rd_kafka_err2str(serr));
        w.exit_code = 1;
        worker_stop = 1;
    } else {
        agg_info("started", "member=%s group=%s pattern=%s redis=%s:%d dlq=%s", w.member,
                 conf->group, pattern, conf->redis.host, conf->redis.port, conf->dlq_topic);
    }

    long long next_metrics = agg_mono_ms() + conf->metrics_interval_ms;
    long long next_deadline_check = agg_mono_ms() + 1000;
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
            prefetch_mark_may_park(&w);
        if (!m)
            prefetch_wake(&w); /* before applying, so the fetch overlaps the Redis work */
        if (w.pending && (!m || full || now - w.batch_started_ms >= conf->batch_ms))
            apply_flush(&w);
        if (now >= w.next_offset_check_ms ||
            store_generation(w.store) != w.offsets_generation) {
            if (part_check_offsets(&w) == 0) {
                replay_check_holds(&w);
                close_check_holds(&w);
                if (!conf->replay) {
                    amend_check(&w);
                    w.outbox_dirty = true; /* look at the outbox as often */
                }
            }
            w.next_offset_check_ms = agg_mono_ms() + conf->offset_check_ms;
        }
        if (now >= next_deadline_check) {
            deadline_check(&w);
            next_deadline_check = now + 5000;
        }
        if (conf->replay && replay_tick(&w)) {
            conf->replay->finished = true; /* every partition at its end */
            break;
        }
        if (w.outbox_dirty && !w.pending && w.sender) {
            w.outbox_dirty = false;
            int src = sender_drain(w.sender, w.store);
            if (src < 0) {
                w.exit_code = 1;
                worker_stop = 1;
            } /* else entries remain: the next offset check sets outbox_dirty again */
        }
        if (now >= next_metrics) {
            metrics_report(&w);
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
        worker_stop = 0; /* let one last apply_flush run its retries, for a bounded time */
        w.flush_deadline_ms = agg_mono_ms() + 15000;
        if (apply_flush(&w) != 0)
            agg_warn("stop_with_unapplied_batch",
                     "messages=%zu note=\"offsets not moved; the next owner re-reads them\"",
                     w.pending);
    }
    if (conf->replay) {
        replay_collect(&w);
    } else {
        worker_stop = 1;
    }
    metrics_report(&w);
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
    sender_free(w.sender);
    store_free(w.store);
    agg_info("stopped", "exit_code=%d", w.exit_code);
    return w.exit_code;
}
