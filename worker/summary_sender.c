/* summary_sender.c: drains the outbox of summaries to the summary topic (SPEC 8).
 *
 * The close (apply.lua) and the amendments (amend.lua) write each summary set to a list
 * in Redis in the same atomic step that decides it. One worker at a time -- the holder
 * of a lock in Redis, renewed while it lives -- sends the head of the list with the
 * idempotent producer, waits for the broker's acknowledgement of every entry, and only
 * then trims them from the list (and only if it still holds the lock). A crash between
 * "decided" and "sent" therefore loses nothing: the next holder sends it. A crash
 * between "acknowledged" and "trimmed" would send an entry twice; so before sending,
 * the sender reads the tail of the summary topic back and skips every entry whose id is
 * already there. Consumers may drop duplicates by id in any case (the id is stable). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/kafka.h"
#include "agg/keys.h"
#include "agg/log.h"
#include "agg/summary.h"
#include "summary_sender.h"

#define OUTBOX_BATCH 100      /* entries sent per drain */
#define LOCK_TTL_MS 10000     /* a dead holder's lock expires after this; renewed every drain */
#define DELIVERY_TIMEOUT_MS 30000
#define READBACK_MIN 200      /* messages read back per partition, at least */

struct summary_sender {
    const worker_conf_t *conf;
    char member[128];
    rd_kafka_t *producer;
    bool topic_ready;
    char lock_key[AGG_KEY_MAX], outbox_key[AGG_KEY_MAX];
    unsigned long long sent, skipped;
};

typedef struct {
    int acked, failed;
    char err[256];
} delivery_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    delivery_t *d = m->_private;
    if (!d)
        return;
    if (m->err) {
        d->failed++;
        snprintf(d->err, sizeof d->err, "%s", rd_kafka_err2str(m->err));
    } else {
        d->acked++;
    }
}

summary_sender_t *sender_new(const worker_conf_t *conf, const char *member, char *errstr,
                             size_t errstr_size) {
    static const char *const defaults[] = {
        "enable.idempotence", "true",
        "message.timeout.ms", "30000",
        "linger.ms", "5",
        NULL,
    };
    summary_sender_t *s = calloc(1, sizeof *s);
    char err[512];
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->conf = conf;
    snprintf(s->member, sizeof s->member, "%s", member);
    if (agg_key_lock(s->lock_key, sizeof s->lock_key, conf->key_prefix, "summary-sender") < 0 ||
        agg_key_outbox(s->outbox_key, sizeof s->outbox_key, conf->key_prefix) < 0) {
        snprintf(errstr, errstr_size, "key prefix too long");
        free(s);
        return NULL;
    }
    rd_kafka_conf_t *kc = agg_kafka_conf_new(conf->bootstrap, defaults, &conf->kprops, errstr,
                                             errstr_size);
    if (!kc) {
        free(s);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    s->producer = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (!s->producer) {
        rd_kafka_conf_destroy(kc);
        snprintf(errstr, errstr_size, "summary producer: %s", err);
        free(s);
        return NULL;
    }
    return s;
}

void sender_free(summary_sender_t *s) {
    if (!s)
        return;
    rd_kafka_flush(s->producer, 5000);
    rd_kafka_destroy(s->producer);
    free(s);
}

unsigned long long sender_sent(const summary_sender_t *s) { return s ? s->sent : 0; }

/* Takes the lock, or renews it when this worker holds it. 1 = holder, 0 = another
 * worker is, -1 = Redis error. */
static int take_lock(summary_sender_t *s, store_t *store, char *err, size_t errsz) {
    static const char script[] =
        "local v = redis.call('GET', KEYS[1]) "
        "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end "
        "if v then return 0 end "
        "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";
    char ttl[16];
    redisReply *r;
    snprintf(ttl, sizeof ttl, "%d", LOCK_TTL_MS);
    const char *argv[] = {"EVAL", script, "1", s->lock_key, s->member, ttl};
    if (store_command(store, &r, err, errsz, 6, argv) != STORE_OK)
        return -1;
    return r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

typedef struct {
    char **ids;
    size_t n, cap;
} id_list_t;

static int collect_id(const rd_kafka_message_t *m, void *opaque, char *errstr,
                      size_t errstr_size) {
    id_list_t *l = opaque;
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vl;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "id", &v, &vl) != RD_KAFKA_RESP_ERR_NO_ERROR || !v ||
        vl > AGG_SUMMARY_ID_MAX)
        return 0; /* not one of ours */
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **ni = realloc(l->ids, nc * sizeof *ni);
        if (!ni) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        l->ids = ni;
        l->cap = nc;
    }
    if ((l->ids[l->n] = strndup(v, vl)) == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    l->n++;
    return 0;
}

/* The ids on the tail of the summary topic (the last max(READBACK_MIN, want) messages
 * of each partition). Returns their number (ids[] malloc'd, strings malloc'd), or -1. */
static long read_back(summary_sender_t *s, size_t want, char ***ids_out, char *err,
                      size_t errsz) {
    id_list_t l = {0};
    int rc = agg_kafka_read_topic(s->conf->bootstrap, &s->conf->kprops, s->conf->summary_topic,
                                  (int64_t)(want > READBACK_MIN ? want : READBACK_MIN), 15000,
                                  collect_id, &l, err, errsz);
    if (rc < 0) {
        for (size_t i = 0; i < l.n; i++)
            free(l.ids[i]);
        free(l.ids);
        *ids_out = NULL;
        return -1;
    }
    *ids_out = l.ids;
    return (long)l.n;
}

int sender_drain(summary_sender_t *s, store_t *store) {
    char err[512];
    redisReply *r;
    store_rc_t rc;

    if ((rc = store_connect(store, err, sizeof err)) != STORE_OK)
        return rc == STORE_FATAL ? -1 : 1;
    const char *llen[] = {"LLEN", s->outbox_key};
    if (store_command(store, &r, err, sizeof err, 2, llen) != STORE_OK)
        return 1;
    if (r->type != REDIS_REPLY_INTEGER || r->integer == 0)
        return 0;
    int lock = take_lock(s, store, err, sizeof err);
    if (lock <= 0)
        return lock < 0 ? 1 : 0; /* another worker sends */
    if (!s->topic_ready) {
        if (agg_kafka_ensure_topic(s->producer, s->conf->summary_topic,
                                   (int)s->conf->summary_partitions, -1, 10000, err,
                                   sizeof err) <= 0) {
            agg_warn("summary_topic_unavailable", "topic=%s error=\"%s\"",
                     s->conf->summary_topic, err);
            return 1;
        }
        s->topic_ready = true;
    }

    char n_s[16];
    snprintf(n_s, sizeof n_s, "%d", OUTBOX_BATCH - 1);
    const char *lr[] = {"LRANGE", s->outbox_key, "0", n_s};
    if (store_command(store, &r, err, sizeof err, 4, lr) != STORE_OK ||
        r->type != REDIS_REPLY_ARRAY)
        return 1;
    size_t n = r->elements;
    /* Copies: the reply is the store's until its next call. */
    char **entries = calloc(n ? n : 1, sizeof *entries);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!entries || !lens) {
        free(entries);
        free(lens);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && (entries[i] = malloc(e->len + 1))) {
            memcpy(entries[i], e->str, e->len);
            entries[i][e->len] = '\0';
            lens[i] = e->len;
        }
    }

    char **seen = NULL;
    long nseen = read_back(s, n, &seen, err, sizeof err);
    int result = 1;
    delivery_t d = {0};
    int queued = 0;
    if (nseen < 0) {
        agg_warn("summary_readback_failed", "error=\"%s\" action=retry", err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *value = NULL;
        char id[AGG_SUMMARY_ID_MAX + 1], quarter[16];
        if (!entries[i])
            goto done; /* out of memory: try again later */
        long vl = agg_summary_from_outbox(entries[i], lens[i], &value, id, quarter, err,
                                          sizeof err);
        if (vl < 0) {
            /* Written by our own scripts, so this is a bug; keep it, say so, go on. */
            agg_error("summary_outbox_invalid", "error=\"%s\" entry=\"%.200s\"", err,
                      entries[i]);
            goto done;
        }
        bool dup = false;
        for (long k = 0; k < nseen && !dup; k++)
            dup = strcmp(seen[k], id) == 0;
        if (dup) {
            s->skipped++;
            agg_info("summary_already_sent", "id=%s", id);
            free(value);
            continue;
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->producer, RD_KAFKA_V_TOPIC(s->conf->summary_topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_KEY(quarter, strlen(quarter)),
            RD_KAFKA_V_VALUE(value, (size_t)vl), RD_KAFKA_V_HEADER("id", id, -1),
            RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
        if (e) {
            free(value);
            if (rd_kafka_fatal_error(s->producer, err, sizeof err)) {
                agg_error("summary_producer_fatal", "error=\"%s\"", err);
                result = -1;
            } else {
                agg_warn("summary_produce_failed", "id=%s error=\"%s\"", id, rd_kafka_err2str(e));
            }
            goto wait;
        }
        queued++;
    }
wait:
    for (long long until = agg_mono_ms() + DELIVERY_TIMEOUT_MS + 5000;
         d.acked + d.failed < queued && agg_mono_ms() < until && !worker_stop;)
        rd_kafka_poll(s->producer, 100);
    if (result < 0)
        goto done;
    if (rd_kafka_fatal_error(s->producer, err, sizeof err)) {
        agg_error("summary_producer_fatal", "error=\"%s\"", err);
        result = -1;
        goto done;
    }
    if (d.acked != queued) {
        agg_warn("summary_delivery_failed", "acked=%d queued=%d error=\"%s\" action=retry",
                 d.acked, queued, d.err);
        goto done;
    }
    /* All of them are on the topic: trim them, if the lock is still ours (else the
     * new holder sends them again and its read-back finds them). */
    static const char trim[] =
        "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
        "redis.call('LTRIM', KEYS[2], ARGV[2], -1) return 1";
    char from[16];
    snprintf(from, sizeof from, "%zu", n);
    const char *tv[] = {"EVAL", trim, "2", s->lock_key, s->outbox_key, s->member, from};
    if (store_command(store, &r, err, sizeof err, 7, tv) != STORE_OK)
        goto done;
    s->sent += (unsigned long long)queued;
    agg_info("summaries_sent", "topic=%s sent=%d already_there=%zu", s->conf->summary_topic,
             queued, n - (size_t)queued);
    result = n == OUTBOX_BATCH ? 1 : 0;
done:
    for (size_t i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
    free(lens);
    for (long k = 0; k < nseen; k++)
        free(seen[k]);
    free(seen);
    return result;
}

int sender_produce_partitions(summary_sender_t *s, const char *topic, int n,
                              const void *value, size_t len, char *err, size_t errsz) {
    delivery_t d = {0};
    int queued = 0;
    for (int p = 0; p < n; p++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
        if (e) {
            snprintf(err, errsz, "produce to %s [%d]: %s", topic, p, rd_kafka_err2str(e));
            break;
        }
        queued++;
    }
    /* Wait for what was queued even after an error: d lives on this stack. */
    while (d.acked + d.failed < queued)
        rd_kafka_poll(s->producer, 100);
    if (queued < n)
        return -1;
    if (d.failed) {
        snprintf(err, errsz, "%d of %d not delivered to %s: %s", d.failed, n, topic, d.err);
        return -1;
    }
    return 0;
}
