/* apply.c: the apply protocol.
 *
 * DLQ the rejects of every open batch and wait for their acks -> read the stored states
 * of the batches' records (pipelined) -> one apply.lua call per partition batch, all
 * pipelined -> each partition's offset has moved with its data, in the same atomic step.
 * A batch that does not follow the stored offset is refused by the script (FENCED); a
 * record state that changed since it was read (CONFLICT) makes the batch recompute. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/kafka.h"
#include "agg/log.h"
#include "apply_args.h"
#include "worker_run.h"

#define CONFLICT_RETRIES 10

static void commit_to_kafka(worker_run_t *w, const part_t *p) {
    if (w->conf->replay)
        return; /* no group: the replay's position is its staged offsets */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->expected;
    /* Monitoring only (consume.c: offsets live in Redis): async, errors are logged by librdkafka. */
    rd_kafka_resp_err_t err = rd_kafka_commit(w->rk, l, 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        agg_debug("kafka_commit_failed", "error=\"%s\"", rd_kafka_err2str(err));
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
        /* A replay's rejects were sent to the DLQ by the live run. */
        for (size_t k = 0; k < n && !w->conf->replay; k++) {
            int drc = dlq_send(w->dlq, rj[k].msg.opaque, rj[k].reason, err, sizeof err);
            if (drc != 0) {
                worker_note_error(w, "dlq_error", err);
                return drc;
            }
        }
    }
    int wrc = dlq_wait(w->dlq);
    if (wrc != 0)
        return wrc;
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

#define OVERFLOW_CULPRITS_MAX 256

typedef struct {
    worker_run_t *w;
    const char *reason;
    int sent;
} overflow_ctx_t;

static int overflow_to_dlq(const rd_kafka_message_t *m, void *opaque, char *errstr,
                           size_t errstr_size) {
    overflow_ctx_t *c = opaque;
    int rc = dlq_send(c->w->dlq, m, c->reason, errstr, errstr_size);
    if (rc == 0)
        c->sent++;
    /* The message belongs to the fetching consumer: it must be acknowledged before
     * that consumer is destroyed. */
    return rc == 0 ? dlq_wait(c->w->dlq) : rc;
}

/* The script refused the batch because it would take (key, field) beyond int64, before
 * any write. The records whose amounts feed that field are fetched again by offset (the
 * batch keeps only decoded copies) and sent to the DLQ with the reason; the batch is
 * then computed again without them. Returns 0 (retry the batch) or -1 (stop: nothing to
 * blame, or the DLQ failed for good). */
static int on_overflow(worker_run_t *w, part_t *p, const char *key, const char *field) {
    int64_t offs[OVERFLOW_CULPRITS_MAX];
    char err[512], reason[384];
    size_t n = batch_overflow_culprits(p->batch, key, field, offs, OVERFLOW_CULPRITS_MAX);
    agg_warn("scope_overflow",
             "topic=%s partition=%d key=%s field=%s records=%zu action=%s", p->topic,
             p->partition, key, field, n, n ? "dlq" : "stop");
    if (n == 0) {
        snprintf(w->last_error, sizeof w->last_error, "scope overflow in %s", key);
        return -1;
    }
    snprintf(reason, sizeof reason, "amount out of range: %s of %s would leave int64", field,
             key);
    overflow_ctx_t ctx = {.w = w, .reason = reason};
    if (agg_kafka_fetch_offsets(w->conf->bootstrap, &w->conf->kprops, p->topic, p->partition,
                                offs, n, 30000, overflow_to_dlq, &ctx, err, sizeof err) != 0 ||
        ctx.sent != (int)n) {
        worker_note_error(w, "dlq_error", err);
        return 0; /* nothing removed yet: the next pass tries again */
    }
    batch_remove_offsets(p->batch, offs, n);
    w->c.rejects += n;
    return 0;
}

/* Handles the script's answer for one partition batch. Returns 1 when the batch is done
 * (applied, or dropped because it was fenced), 0 to retry it, -1 fatal. */
static int on_apply_reply(worker_run_t *w, part_t *p, const redisReply *r) {
    char err[256];
    int64_t end = batch_last_offset(p->batch) + 1;

    if (r->type == REDIS_REPLY_ERROR) {
        store_rc_t rc = store_classify_error(w->store, r, err, sizeof err);
        worker_note_error(w, rc == STORE_FATAL ? "apply_failed" : "apply_retry", err);
        return rc == STORE_FATAL ? -1 : 0;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        (r->element[0]->type != REDIS_REPLY_STATUS && r->element[0]->type != REDIS_REPLY_STRING)) {
        worker_note_error(w, "apply_failed", "unexpected reply from apply.lua");
        return -1;
    }
    const char *status = r->element[0]->str;
    if (strcmp(status, APPLY_REPLY_OK) == 0) {
        const char *qstatus = r->elements > 1 && r->element[1]->str ? r->element[1]->str
                                                                    : APPLY_STATUS_OPEN;
        close_on_applied(w, p, batch_marker(p->batch) != NULL, qstatus);
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
    if (strcmp(status, APPLY_REPLY_HOLD) == 0) {
        /* Nothing was written; the rejects already in the DLQ stay there (their copies
         * are sent once more when the batch is fetched again). */
        part_drop_batch(w, p);
        close_on_hold(w, p);
        return 1;
    }
    if (strcmp(status, APPLY_REPLY_OVERFLOW) == 0 && r->elements == 3 && r->element[1]->str &&
        r->element[2]->str)
        return on_overflow(w, p, r->element[1]->str, r->element[2]->str);
    if (strcmp(status, APPLY_REPLY_REPLAY) == 0) {
        part_drop_batch(w, p);
        replay_on_hold(w, p);
        return 1;
    }
    if (strcmp(status, APPLY_REPLY_FENCED) == 0 && r->elements == 2) {
        const char *s = r->element[1]->str;
        int64_t stored = s && s[0] ? strtoll(s, NULL, 10) : -1;
        if (stored == end) {
            /* Our own earlier attempt landed but its reply was lost with the connection. */
            agg_info("batch_already_applied", "topic=%s partition=%d offset=%" PRId64
                     " note=\"the reply of the first attempt was lost\"",
                     p->topic, p->partition, end);
            p->expected = end;
            w->c.batches++;
            part_drop_batch(w, p);
            return 1;
        }
        w->c.fenced++;
        agg_warn("batch_fenced",
                 "topic=%s partition=%d expected=%" PRId64 " stored=%" PRId64
                 " action=part_seek_to_stored",
                 p->topic, p->partition, p->expected, stored);
        part_drop_batch(w, p);
        part_seek_to_stored(w, p, stored);
        return 1;
    }
    if (strcmp(status, APPLY_REPLY_CONFLICT) == 0) {
        w->c.conflicts++;
        agg_warn("batch_conflict", "topic=%s partition=%d key=%s field=%s", p->topic,
                 p->partition, r->elements > 1 ? r->element[1]->str : "?",
                 r->elements > 2 ? r->element[2]->str : "?");
        return 0;
    }
    worker_note_error(w, "apply_failed", "unknown status from apply.lua");
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
        worker_note_error(w, "redis_unavailable", err);
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
                worker_note_error(w, "redis_error", err);
                /* The rest of this pipeline's replies are unread: start afresh, or they
                 * would be taken for the answers to the next commands. */
                store_disconnect(w->store);
                return rc == STORE_FATAL ? -1 : 0;
            }
            if (batch_read_reply(p->batch, k, r, err, sizeof err) != 0) {
                worker_note_error(w, "corrupt_state", err);
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
            worker_note_error(w, "apply_failed", err);
            return -1;
        }
        if (store_append_script(w->store, STORE_SCRIPT_APPLY, argc, argv, argvlen, err, sizeof err) != STORE_OK)
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
        /* Test hook (tests/integration/48-lost-reply.sh): the script ran, its reply
         * arrived, and the connection is dropped as if the reply had been lost. */
        static bool reply_dropped;
        if (!reply_dropped && getenv("AGG_TEST_DROP_REPLY") && batch_valid(p->batch) > 0) {
            reply_dropped = true;
            agg_warn("test_reply_dropped", "topic=%s partition=%d", p->topic, p->partition);
            store_disconnect(w->store);
            snprintf(err, sizeof err, "test: reply dropped");
            goto transient;
        }
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
    worker_note_error(w, "redis_unavailable", err);
    return 0;
}

/* Applies every open batch; stalls through Redis and broker outages. Returns 0 when all
 * are applied (or dropped as fenced), -1 when stopped first or on a fatal error. */
int apply_flush(worker_run_t *w) {
    long delay = 100;
    int conflicts = 0;

    if (w->pending == 0)
        return 0;
    int src;
    while ((src = send_rejects(w)) != 0) {
        if (src == -2) {
            w->exit_code = 1;
            worker_stop = 1;
            return -1;
        }
        if (worker_stop || (w->flush_deadline_ms && agg_mono_ms() > w->flush_deadline_ms))
            return -1;
        worker_backoff(&delay);
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
        worker_backoff(&delay);
        conflicts = 0;
    }
    w->batch_started_ms = 0;
    return 0;
}
