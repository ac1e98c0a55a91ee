/* close.c: the aligned close of a quarter (SPEC 8), the worker's side of it.
 *
 * The decision is apply.lua's: a marker is applied with its partition's offset; the
 * step whose marker completes the quarter's set of closed partitions closes it and
 * writes the summary set to the outbox (summary_sender.c sends it). This file keeps a
 * partition that is past its marker from applying anything more until the quarter is
 * closed -- the partition is paused, not dropped -- so the first summary covers exactly
 * the records before the markers, whatever the order partitions and workers reach them.
 * The script refuses such records anyway (HOLD); pausing saves fetching them in vain. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agg/log.h"
#include "apply_args.h"
#include "worker_run.h"

static void hold(worker_run_t *w, part_t *p) {
    if (p->close_held)
        return;
    p->close_held = true;
    agg_info("partition_held", "topic=%s partition=%d quarter=%s note=\"past its close "
             "marker; waits until every partition has closed\"",
             p->topic, p->partition, p->qid);
    part_pause(w, p, true);
}

int close_read_state(worker_run_t *w, part_t *p, char *errstr, size_t errstr_size) {
    char closed_key[AGG_KEY_MAX], state_key[AGG_KEY_MAX], part[16];
    redisReply *r;
    if (agg_key_closed_partitions(closed_key, sizeof closed_key, w->conf->key_prefix,
                                  p->qid) < 0 ||
        agg_key_state(state_key, sizeof state_key, w->conf->key_prefix, p->qid) < 0) {
        snprintf(errstr, errstr_size, "key too long for quarter %s", p->qid);
        return -1;
    }
    snprintf(part, sizeof part, "%d", (int)p->partition);
    const char *sis[] = {"SISMEMBER", closed_key, part};
    if (store_command(w->store, &r, errstr, errstr_size, 3, sis) != STORE_OK)
        return -1;
    p->past_marker = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (!p->past_marker) {
        p->close_held = false;
        return 0;
    }
    const char *hg[] = {"HGET", state_key, "status"};
    if (store_command(w->store, &r, errstr, errstr_size, 3, hg) != STORE_OK)
        return -1;
    bool closed = r->type == REDIS_REPLY_STRING && strcmp(r->str, APPLY_STATUS_CLOSED) == 0;
    if (!closed)
        p->close_held = true; /* paused by close_pause_held() once assigned */
    return 0;
}

void close_pause_held(worker_run_t *w) {
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].used && w->parts[i].close_held)
            part_pause(w, &w->parts[i], true);
}

void close_on_applied(worker_run_t *w, part_t *p, bool had_marker, const char *status) {
    if (strcmp(status, APPLY_STATUS_CLOSED_NOW) == 0) {
        agg_info("quarter_closed", "quarter=%s topic=%s partition=%d note=\"summaries in "
                 "the outbox\"", p->qid, p->topic, p->partition);
        w->outbox_dirty = true;
        /* This worker's other partitions of the quarter may be held: resume them now. */
        for (size_t i = 0; i < w->nparts; i++) {
            part_t *q = &w->parts[i];
            if (q->used && q->close_held && strcmp(q->qid, p->qid) == 0) {
                q->close_held = false;
                if (q->replay_held)
                    continue; /* resumed when the replay is over */
                part_pause(w, q, false);
                part_seek_to_stored(w, q, q->expected);
            }
        }
    }
    if (!had_marker)
        return;
    if (!p->past_marker)
        agg_info("partition_closed", "topic=%s partition=%d quarter=%s status=%s", p->topic,
                 p->partition, p->qid, status);
    p->past_marker = true;
    if (strcmp(status, APPLY_STATUS_OPEN) == 0)
        hold(w, p);
}

void close_on_hold(worker_run_t *w, part_t *p) {
    p->past_marker = true;
    hold(w, p);
    /* What was fetched past the marker is fetched again from the stored offset later. */
    part_seek_to_stored(w, p, p->expected);
}

void close_check_holds(worker_run_t *w) {
    char err[256], state_key[AGG_KEY_MAX];
    redisReply *r;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->close_held)
            continue;
        if (agg_key_state(state_key, sizeof state_key, w->conf->key_prefix, p->qid) < 0)
            continue;
        const char *hg[] = {"HGET", state_key, "status"};
        if (store_command(w->store, &r, err, sizeof err, 3, hg) != STORE_OK) {
            worker_note_error(w, "redis_unavailable", err);
            return;
        }
        if (r->type != REDIS_REPLY_STRING || strcmp(r->str, APPLY_STATUS_CLOSED) != 0)
            continue;
        p->close_held = false;
        if (p->replay_held)
            continue; /* resumed when the replay is over */
        agg_info("partition_resumed", "topic=%s partition=%d quarter=%s offset=%" PRId64,
                 p->topic, p->partition, p->qid, p->expected);
        part_pause(w, p, false);
        part_seek_to_stored(w, p, p->expected);
    }
}
