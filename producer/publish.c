/* Publishing rows and close markers with an idempotent librdkafka producer.
 *
 * The one promise made to the operator: nothing is reported as sent that the broker
 * did not acknowledge. Every message carries a pointer to its prod_msg_t as the
 * librdkafka opaque, so the delivery report (or its absence after the wait) names the
 * row or partition concerned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "produce.h"

/* After a purge, librdkafka still has to hand back the purged messages' reports;
 * this bounds how long that may take. */
#define PURGE_DRAIN_MS 5000
/* The flush waits this much longer than message.timeout.ms (set to --timeout-ms), so
 * librdkafka times messages out itself, with their persistence status, before we
 * purge. */
#define FLUSH_MARGIN_MS 1000
/* How long one poll waits while the local queue is full. */
#define QUEUE_FULL_POLL_MS 100

typedef struct {
    const prod_topic_t *topics;
    size_t acked, failed;
    /* error_cb: the first time an error code is seen it is a warning, repeats (every
     * reconnect attempt while a broker is down) are debug. */
    int seen_err[16];
    size_t nseen;
    bool fatal;
} pub_ctx_t;

static void report_failed(pub_ctx_t *ctx, prod_msg_t *m, const char *reason,
                          const char *note) {
    char where[320];
    prod_msg_where(m, ctx->topics, where, sizeof where);
    fprintf(stderr, "%s: not delivered: %s%s\n", where, reason, note ? note : "");
    m->state = PROD_MSG_FAILED;
    ctx->failed++;
}

/* Runs on the application thread inside rd_kafka_poll()/rd_kafka_flush(). */
static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    pub_ctx_t *ctx = opaque;
    prod_msg_t *pm = m->_private;
    if (pm == NULL)
        return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pm->state = PROD_MSG_DELIVERED;
        pm->partition = m->partition;
        ctx->acked++;
        return;
    }
    /* A timed-out or purged in-flight message may have been written after all. The
     * operator can safely send it again: an equal revision changes nothing. */
    const char *note =
        rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED
            ? " (possibly written by the broker; sending it again is harmless)"
            : NULL;
    report_failed(ctx, pm, rd_kafka_err2str(m->err), note);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    pub_ctx_t *ctx = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        /* The idempotent producer cannot guarantee order any more: stop producing;
         * the remaining messages fail with their own delivery reports. */
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        agg_error("kafka_fatal", "err=%s reason=\"%s\"", rd_kafka_err2name(orig), buf);
        ctx->fatal = true;
        return;
    }
    bool seen = false;
    for (size_t i = 0; i < ctx->nseen; i++)
        seen = seen || ctx->seen_err[i] == err;
    if (!seen && ctx->nseen < sizeof ctx->seen_err / sizeof ctx->seen_err[0])
        ctx->seen_err[ctx->nseen++] = err;
    agg_log(seen ? AGG_LOG_DEBUG : AGG_LOG_WARN, "kafka_error", "err=%s reason=\"%s\"",
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* librdkafka's own log lines (from its threads): the interesting ones also arrive
 * through error_cb, so they are kept for -v. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    agg_log(level <= 2 ? AGG_LOG_ERROR : AGG_LOG_DEBUG, "rdkafka",
            "level=%d fac=%s msg=\"%s\"", level, fac, buf);
}

/* Takes ownership of conf (destroyed on failure too). NULL when the client cannot be
 * created; the reason is printed. */
static rd_kafka_t *producer_new(rd_kafka_conf_t *conf, pub_ctx_t *ctx) {
    char err[512];
    rd_kafka_conf_set_opaque(conf, ctx);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        /* rd_kafka_new() takes conf only on success. */
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "agg-produce: cannot create the Kafka producer: %s\n", err);
    }
    return rk;
}

static prod_msg_t *msg_at(void *base, size_t stride, size_t i) {
    return (prod_msg_t *)(void *)((char *)base + i * stride);
}

/* Waits for every delivery report; what is still unacknowledged after timeout_ms is
 * purged, so its report says so. msgs: count elements of stride bytes, each starting
 * with a prod_msg_t. */
static void drain(rd_kafka_t *rk, pub_ctx_t *ctx, void *msgs, size_t stride, size_t count,
                  int timeout_ms) {
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        agg_warn("flush_timeout", "timeout_ms=%d outq=%d", timeout_ms,
                 rd_kafka_outq_len(rk));
        err = rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            agg_warn("purge_failed", "err=%s", rd_kafka_err2name(err));
        err = rd_kafka_flush(rk, PURGE_DRAIN_MS);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            agg_warn("flush_after_purge", "err=%s", rd_kafka_err2name(err));
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        agg_warn("flush_failed", "err=%s", rd_kafka_err2name(err));
    }
    for (size_t i = 0; i < count; i++) {
        prod_msg_t *m = msg_at(msgs, stride, i);
        if (m->state == PROD_MSG_QUEUED)
            report_failed(ctx, m, "no delivery report within the wait", NULL);
    }
}

/* Produces one message, polling while the local queue is full (until deadline).
 * Ownership of *value passes to librdkafka on success (*value is set to NULL);
 * otherwise the caller still owns it. */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk, pub_ctx_t *ctx, const char *topic,
                                       int32_t partition, const char *key, uint8_t **value,
                                       size_t len, prod_msg_t *m, long long deadline) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE(*value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            *value = NULL;
            m->state = PROD_MSG_QUEUED;
            return err;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ctx->fatal || agg_mono_ms() >= deadline)
            return err;
        rd_kafka_poll(rk, QUEUE_FULL_POLL_MS);
    }
}

static void print_summary(const prod_rows_t *rows) {
    size_t total = 0, ntopics = 0;
    size_t *per = calloc(rows->ntopics ? rows->ntopics : 1, sizeof *per);
    if (per == NULL)
        return;
    for (size_t i = 0; i < rows->count; i++) {
        if (rows->row[i].msg.state == PROD_MSG_DELIVERED) {
            if (per[rows->row[i].msg.topic]++ == 0)
                ntopics++;
            total++;
        }
    }
    fprintf(stderr, "published %zu record%s to %zu topic%s", total, total == 1 ? "" : "s",
            ntopics, ntopics == 1 ? "" : "s");
    const char *sep = " (";
    for (size_t t = 0; t < rows->ntopics; t++) {
        if (per[t] == 0)
            continue;
        fprintf(stderr, "%s%s: %zu", sep, rows->topic[t].name, per[t]);
        sep = ", ";
    }
    fprintf(stderr, "%s\n", ntopics ? ")" : "");
    free(per);
}

int prod_publish_rows(prod_rows_t *rows, rd_kafka_conf_t *conf, const prod_kafka_opts_t *o,
                      bool quiet) {
    pub_ctx_t ctx = {.topics = rows->topic};
    rd_kafka_t *rk = producer_new(conf, &ctx);
    conf = NULL;
    if (rk == NULL)
        return PROD_EXIT_USAGE;

    /* Topics first: producing to a missing topic would either fail late or, with
     * broker auto-creation, make one with the broker's partition count. */
    /* Per topic: why it cannot be used, or "" when it can. */
    char(*topic_err)[512] = calloc(rows->ntopics ? rows->ntopics : 1, sizeof *topic_err);
    if (topic_err == NULL) {
        rd_kafka_destroy(rk);
        fprintf(stderr, "agg-produce: out of memory\n");
        return PROD_EXIT_DELIVERY;
    }
    long long deadline = agg_mono_ms() + o->timeout_ms;
    for (size_t t = 0; t < rows->ntopics; t++) {
        char *err = topic_err[t];
        long long left = deadline - agg_mono_ms();
        int n = agg_kafka_ensure_topic(rk, rows->topic[t].name, o->partitions,
                                       o->replication_factor, left > 0 ? (int)left : 1, err,
                                       sizeof topic_err[t]);
        if (n > 0) {
            err[0] = '\0';
            agg_debug("topic_ready", "topic=%s partitions=%d", rows->topic[t].name, n);
            continue;
        }
        if (n == 0 || err[0] == '\0')
            snprintf(err, sizeof topic_err[t], "topic %s has no partitions",
                     rows->topic[t].name);
        agg_error("topic_unavailable", "topic=%s reason=\"%s\"", rows->topic[t].name, err);
    }

    /* Rows go in input order; one region's rows share a key, hence a partition, and
     * the idempotent producer keeps their order through retries, so a correction
     * later in the input is applied after the row it corrects. */
    const char *stop = NULL;
    deadline = agg_mono_ms() + o->timeout_ms;
    for (size_t i = 0; i < rows->count; i++) {
        prod_row_t *row = &rows->row[i];
        if (topic_err[row->msg.topic][0] != '\0') {
            report_failed(&ctx, &row->msg, topic_err[row->msg.topic], NULL);
            continue;
        }
        if (stop != NULL) {
            report_failed(&ctx, &row->msg, stop, NULL);
            continue;
        }
        uint8_t *buf = NULL;
        long len = agg_encode_report(&row->rec, &buf);
        if (len < 0) {
            report_failed(&ctx, &row->msg, "cannot encode (out of memory)", NULL);
            continue;
        }
        rd_kafka_resp_err_t err =
            produce_one(rk, &ctx, rows->topic[row->msg.topic].name, RD_KAFKA_PARTITION_UA,
                        row->rec.region, &buf, (size_t)len, &row->msg, deadline);
        free(buf); /* NULL when librdkafka took it */
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            report_failed(&ctx, &row->msg, rd_kafka_err2str(err), NULL);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL || err == RD_KAFKA_RESP_ERR__FATAL ||
                ctx.fatal)
                stop = "not sent (the producer stopped after an earlier failure)";
        }
        rd_kafka_poll(rk, 0); /* serve delivery reports as we go */
    }
    drain(rk, &ctx, rows->row, sizeof rows->row[0], rows->count,
          o->timeout_ms + FLUSH_MARGIN_MS);
    rd_kafka_destroy(rk);

    free(topic_err);

    if (!quiet)
        print_summary(rows);
    if (ctx.failed > 0) {
        fprintf(stderr, "agg-produce: %zu record%s not delivered\n", ctx.failed,
                ctx.failed == 1 ? "" : "s");
        return PROD_EXIT_DELIVERY;
    }
    return PROD_EXIT_OK;
}

int prod_publish_close(const char *topic, const agg_close_t *marker, rd_kafka_conf_t *conf,
                       const prod_kafka_opts_t *o, bool quiet) {
    prod_topic_t topics[1];
    memset(topics, 0, sizeof topics);
    snprintf(topics[0].name, sizeof topics[0].name, "%s", topic);
    pub_ctx_t ctx = {.topics = topics};
    rd_kafka_t *rk = producer_new(conf, &ctx);
    conf = NULL;
    if (rk == NULL)
        return PROD_EXIT_USAGE;

    char err[512];
    int n = agg_kafka_partition_count(rk, topic, o->timeout_ms, err, sizeof err);
    if (n <= 0) {
        rd_kafka_destroy(rk);
        if (n == 0) {
            /* Creating it would close a quarter nobody reported in: refuse. */
            fprintf(stderr,
                    "agg-produce: topic %s does not exist (nothing was published for "
                    "this quarter); no close marker written\n",
                    topic);
            return PROD_EXIT_INVALID;
        }
        fprintf(stderr, "agg-produce: %s: not delivered: %s\n", topic, err);
        return PROD_EXIT_DELIVERY;
    }

    uint8_t *value = NULL;
    /* The count the quarter's close waits for: every partition the topic has now. */
    agg_close_t m2 = *marker;
    m2.partitions = n;
    long len = agg_encode_close(&m2, &value);
    prod_msg_t *msgs = calloc((size_t)n, sizeof *msgs);
    if (len < 0 || msgs == NULL) {
        free(value);
        free(msgs);
        rd_kafka_destroy(rk);
        fprintf(stderr, "agg-produce: out of memory\n");
        return PROD_EXIT_DELIVERY;
    }

    long long deadline = agg_mono_ms() + o->timeout_ms;
    for (int p = 0; p < n; p++) {
        prod_msg_t *m = &msgs[p];
        m->topic = 0;
        m->partition = p;
        /* Each partition gets its own copy: librdkafka frees what it is given. */
        uint8_t *copy = malloc((size_t)len);
        if (copy == NULL) {
            report_failed(&ctx, m, "out of memory", NULL);
            continue;
        }
        memcpy(copy, value, (size_t)len);
        /* No key: the partition is explicit, and a marker belongs to no region. */
        rd_kafka_resp_err_t e =
            produce_one(rk, &ctx, topic, p, NULL, &copy, (size_t)len, m, deadline);
        free(copy);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            report_failed(&ctx, m, rd_kafka_err2str(e), NULL);
        rd_kafka_poll(rk, 0);
    }
    free(value);
    drain(rk, &ctx, msgs, sizeof msgs[0], (size_t)n, o->timeout_ms + FLUSH_MARGIN_MS);
    rd_kafka_destroy(rk);
    free(msgs);

    if (ctx.failed > 0) {
        fprintf(stderr,
                "agg-produce: close marker not delivered to %zu of %d partitions of %s\n",
                ctx.failed, n, topic);
        return PROD_EXIT_DELIVERY;
    }
    if (!quiet)
        fprintf(stderr, "close marker written to %d partition%s of %s\n", n,
                n == 1 ? "" : "s", topic);
    return PROD_EXIT_OK;
}
