/* dlq.c: dead-letter producer.
 *
 * A rejected message must be on the DLQ before the partition's offset moves past it,
 * or a crash in between would lose it. So the worker queues the batch's rejects, waits
 * here until the broker acknowledged all of them, and only then applies the batch. The
 * producer never times a message out (message.timeout.ms=0): a broker outage stalls the
 * worker instead of dropping a rejected message. A crash after the acknowledgement and
 * before the apply re-sends it: the DLQ is at-least-once, and each entry names its
 * source topic/partition/offset so duplicates are recognisable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agg/kafka.h"
#include "agg/log.h"
#include "worker.h"

/* The largest key a DLQ entry keeps in full; longer ones are cut (original length in a
 * header), so a huge key cannot make the entry too large either. */
#define DLQ_KEY_MAX 1024

struct dlq {
    rd_kafka_t *rk;
    const char *topic;
    unsigned long long sent, failed_reports, truncated;
    size_t max_bytes; /* key + value of an entry; halved when the broker refuses one */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    struct dlq *d = opaque;
    if (m->err) {
        /* With message.timeout.ms=0 only a permanent error lands here. */
        d->failed_reports++;
        /* The broker's limit is below ours: cut the next copies harder. The batch's
         * rejects are sent again (its offset did not move), so this converges. */
        if ((m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
             m->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) &&
            d->max_bytes > 2 * DLQ_KEY_MAX)
            d->max_bytes /= 2;
        agg_error("dlq_delivery_failed", "topic=%s error=\"%s\"", d->topic,
                  rd_kafka_err2str(m->err));
    }
}

dlq_t *dlq_new(const worker_conf_t *conf, char *errstr, size_t errstr_size) {
    static const char *const defaults[] = {
        "enable.idempotence", "true",
        "message.timeout.ms", "0",
        "linger.ms", "5",
        NULL,
    };
    dlq_t *d = calloc(1, sizeof *d);
    char err[512];
    if (!d) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    d->topic = conf->dlq_topic;
    d->max_bytes = (size_t)conf->dlq_max_bytes;
    rd_kafka_conf_t *kc = agg_kafka_conf_new(conf->bootstrap, defaults, &conf->kprops, errstr,
                                             errstr_size);
    if (!kc) {
        free(d);
        return NULL;
    }
    rd_kafka_conf_set_opaque(kc, d);
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (!d->rk) {
        rd_kafka_conf_destroy(kc);
        snprintf(errstr, errstr_size, "DLQ producer: %s", err);
        free(d);
        return NULL;
    }
    return d;
}

void dlq_free(dlq_t *d) {
    if (!d)
        return;
    if (rd_kafka_flush(d->rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        agg_warn("dlq_flush_incomplete", "queued=%d", rd_kafka_outq_len(d->rk));
    rd_kafka_destroy(d->rk);
    free(d);
}

unsigned long long dlq_count(const dlq_t *d) { return d->sent; }

int dlq_send(dlq_t *d, const rd_kafka_message_t *m, const char *reason, char *errstr,
             size_t errstr_size) {
    char part[16], off[32];
    const char *src_topic = rd_kafka_topic_name(m->rkt);
    /* Test hook (tests/integration/72-stop-bounds.sh): a fatal producer error, raised
     * the way librdkafka itself would, cannot be provoked on a healthy local broker. */
    static bool fatal_raised;
    if (!fatal_raised && getenv("AGG_TEST_DLQ_FATAL")) {
        fatal_raised = true;
        if (rd_kafka_test_fatal_error(d->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                      "test: AGG_TEST_DLQ_FATAL") != RD_KAFKA_RESP_ERR_NO_ERROR)
            agg_warn("dlq_test_fatal_failed", "note=\"the fatal error was not raised\"");
    }
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);

    /* A reject the DLQ cannot take whole is sent cut, with its original lengths and the
     * SHA-256 of the whole value, so it is never lost and never stalls the partition. */
    char vlen_s[24], klen_s[24], digest[2 * EVP_MAX_MD_SIZE + 1] = "";
    snprintf(vlen_s, sizeof vlen_s, "%zu", m->len);
    snprintf(klen_s, sizeof klen_s, "%zu", m->key_len);
    size_t klen, vlen;
    bool cut;
    rd_kafka_resp_err_t err;
    for (;;) {
        klen = m->key_len;
        vlen = m->len;
        cut = klen + vlen > d->max_bytes;
        if (cut) {
            klen = klen > DLQ_KEY_MAX ? DLQ_KEY_MAX : klen;
            vlen = vlen > d->max_bytes - klen ? d->max_bytes - klen : vlen;
            if (!digest[0]) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned int mdlen = 0;
                if (EVP_Digest(m->payload, m->len, md, &mdlen, EVP_sha256(), NULL) != 1) {
                    snprintf(errstr, errstr_size, "DLQ: SHA-256 of a %zu-byte reject failed",
                             m->len);
                    return -1;
                }
                for (unsigned int i = 0; i < mdlen; i++)
                    snprintf(digest + 2 * i, 3, "%02x", md[i]);
            }
        }
        const char *hdr[][2] = {{"source_topic", src_topic}, {"source_partition", part},
                                {"source_offset", off},      {"reason", reason},
                                {"original_length", vlen_s}, {"original_key_length", klen_s},
                                {"original_sha256", digest}};
        size_t nh = cut ? 7 : 4;
        rd_kafka_headers_t *h = rd_kafka_headers_new(nh);
        err = h ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__FAIL;
        for (size_t i = 0; i < nh && !err; i++)
            err = rd_kafka_header_add(h, hdr[i][0], -1, hdr[i][1], -1);
        if (!err)
            err = rd_kafka_producev(
                d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(m->key, klen), RD_KAFKA_V_VALUE(m->payload, vlen),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && h)
            rd_kafka_headers_destroy(h); /* ownership passes only on success */
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && d->max_bytes > 2 * DLQ_KEY_MAX) {
            d->max_bytes /= 2; /* the producer's own limit is below ours */
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(errstr, errstr_size, "DLQ produce: %s", rd_kafka_err2str(err));
            if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[256];
                rd_kafka_fatal_error(d->rk, fatal, sizeof fatal);
                agg_error("dlq_producer_fatal", "topic=%s error=\"%s\"", d->topic, fatal);
                return -2;
            }
            return -1;
        }
        rd_kafka_poll(d->rk, 100);
    }
    d->sent++;
    if (cut) {
        d->truncated++;
        agg_warn("dlq_truncated", "topic=%s partition=%s offset=%s original_length=%zu kept=%zu",
                 src_topic, part, off, m->len, vlen);
    }
    /* A flood of bad messages must not flood the log: one line per second, with the
     * count of those not shown (every one is in the DLQ with its reason). */
    unsigned long suppressed = 0;
    if (agg_log_every("dlq", 1000, &suppressed))
        agg_warn("dlq", "topic=%s partition=%s offset=%s suppressed=%lu reason=\"%.200s\"",
                 src_topic, part, off, suppressed, reason);
    return 0;
}

int dlq_wait(dlq_t *d) {
    long long last_log = agg_mono_ms();
    unsigned long long failed_before = d->failed_reports;
    char fatal[256];
    while (rd_kafka_outq_len(d->rk) > 0) {
        /* A fatal error (the idempotent producer lost its guarantees, an authorization
         * failure) never heals: stop instead of retrying forever. */
        if (rd_kafka_fatal_error(d->rk, fatal, sizeof fatal)) {
            agg_error("dlq_producer_fatal", "topic=%s error=\"%s\"", d->topic, fatal);
            return -2;
        }
        if (worker_stop)
            return -1;
        rd_kafka_poll(d->rk, 100);
        if (agg_mono_ms() - last_log > 10000) {
            agg_warn("dlq_stalled", "queued=%d topic=%s", rd_kafka_outq_len(d->rk), d->topic);
            last_log = agg_mono_ms();
        }
    }
    if (rd_kafka_fatal_error(d->rk, fatal, sizeof fatal)) {
        agg_error("dlq_producer_fatal", "topic=%s error=\"%s\"", d->topic, fatal);
        return -2;
    }
    return d->failed_reports == failed_before ? 0 : -1;
}
