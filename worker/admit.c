/* admit.c: what a quarter topic's message is -- a record to aggregate, a close marker,
 * or a reject with its reason -- decided once, for the live path (batch.c) and for the
 * replay's recomputation (recompute.c) alike: decoding, field validation, the quarter
 * and key checks, the late-record policy, and the defaults of an older marker. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agg/deadline.h"
#include "agg/log.h"
#include "worker.h"

int admit_topic(admit_topic_t *t, const worker_conf_t *conf, const char *topic) {
    size_t tl = strlen(topic);
    if (tl >= sizeof t->topic)
        return -1;
    t->bad_topic = false;
    if (agg_quarter_from_topic(topic, conf->topic_prefix, &t->year, &t->quarter) != 0 ||
        agg_quarter_format(t->year, t->quarter, t->qid, sizeof t->qid) != 0) {
        /* The subscription pattern admits any YYYY-Q[1-4]: a topic of a year out of
         * range (reports.9999-Q1) gets every message refused to the DLQ, its offsets
         * move, and it creates no quarter state. Only the offsets key is written. */
        size_t pl = strlen(conf->topic_prefix);
        const char *q = topic + (strncmp(topic, conf->topic_prefix, pl) == 0 ? pl : 0);
        if (strlen(q) != AGG_QUARTER_ID_LEN || q[4] != '-' || q[5] != 'Q' || q[6] < '1' ||
            q[6] > '4' || strspn(q, "0123456789") != 4)
            return -1;
        memcpy(t->qid, q, AGG_QUARTER_ID_LEN + 1);
        t->year = t->quarter = 0;
        t->bad_topic = true;
    }
    memcpy(t->topic, topic, tl + 1);
    return 0;
}

static admit_t refuse(char *reason, size_t reasonsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static admit_t refuse(char *reason, size_t reasonsz, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reasonsz, fmt, ap);
    va_end(ap);
    return ADMIT_REJECT;
}

/* Printable, bounded copy of a message key for a DLQ reason. */
static void quote_key(const void *key, size_t len, char *out, size_t outsz) {
    size_t j = 0;
    const unsigned char *k = key;
    for (size_t i = 0; i < len && j + 5 < outsz; i++) {
        if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' && k[i] != '\\')
            out[j++] = (char)k[i];
        else
            j += (size_t)snprintf(out + j, outsz - j, "\\x%02x", k[i]);
    }
    out[j] = '\0';
}

admit_t admit_message(const worker_conf_t *conf, const admit_topic_t *t, const batch_msg_t *m,
                      bool late_reject, agg_arena_t *arena, agg_msg_t *msg, char *reason,
                      size_t reasonsz) {
    char err[256];
    if (t->bad_topic)
        return refuse(reason, reasonsz, "topic %s: quarter %s out of range (years %d to %d)",
                      t->topic, t->qid, AGG_YEAR_MIN, AGG_YEAR_MAX);
    if (agg_decode(m->value, m->value_len, arena, msg, err, sizeof err) != 0)
        return refuse(reason, reasonsz, "%s", err);
    if (msg->kind == AGG_MSG_CLOSE) {
        agg_close_t *c = &msg->close;
        if (c->year != t->year || c->quarter != t->quarter)
            return refuse(reason, reasonsz,
                          "quarter mismatch: close marker for %d-Q%d on topic %s", c->year,
                          c->quarter, t->topic);
        if (c->requested_ms <= 0)
            c->requested_ms = agg_now_ms();
        if (c->deadline_ms <= 0) /* a marker written before v2 */
            c->deadline_ms = agg_deadline_ms(&conf->deadlines, t->year, t->quarter);
        return ADMIT_MARKER;
    }
    const agg_record_t *r = &msg->record;
    const char *field = NULL;
    if (agg_record_validate(r, conf->no_region_check ? NULL : &conf->regions, &field, err,
                            sizeof err) != 0)
        return refuse(reason, reasonsz, "invalid field %s: %s", field ? field : "?", err);
    if (r->year != t->year || r->quarter != t->quarter)
        return refuse(reason, reasonsz,
                      "quarter mismatch: record is for %d-Q%d but topic is %s", r->year,
                      r->quarter, t->topic);
    size_t rl = strlen(r->region);
    if (m->key_len != rl || memcmp(m->key, r->region, rl) != 0) {
        char k[128];
        quote_key(m->key, m->key_len, k, sizeof k);
        return refuse(reason, reasonsz,
                      "key mismatch: message key \"%s\" is not the region \"%s\"", k,
                      r->region);
    }
    if (late_reject)
        return refuse(reason, reasonsz,
                      "quarter-closed: %s is closed and the late-record policy is reject",
                      t->qid);
    return ADMIT_RECORD;
}
