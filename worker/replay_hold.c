/* replay_hold.c: a live worker's side of a replay (SPEC 9).
 *
 * While a replay of a quarter runs, its lock key exists and apply.lua refuses every
 * batch of that quarter (REPLAY, nothing written). The worker then holds the partition
 * -- paused, its messages dropped -- until the lock is gone, and resumes from the stored
 * offset, which the replay's swap has moved to the end it recomputed up to: rows
 * produced during the replay are applied by the live path after it, exactly once (the
 * offset fence is the hand-over). A crashed replay's lock expires on its own. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

void replay_on_hold(worker_run_t *w, part_t *p) {
    if (!p->replay_held)
        agg_info("partition_held", "topic=%s partition=%d quarter=%s note=\"a replay of the "
                 "quarter runs\"", p->topic, p->partition, p->qid);
    p->replay_held = true;
    part_pause(w, p, true);
    part_seek_to_stored(w, p, p->expected);
}

void replay_check_holds(worker_run_t *w) {
    char err[256], key[AGG_KEY_MAX], okey[AGG_KEY_MAX];
    redisReply *r;
    for (size_t i = 0; i < w->nparts; i++) {
        part_t *p = &w->parts[i];
        if (!p->used || !p->replay_held ||
            agg_key_replay_lock(key, sizeof key, w->conf->key_prefix, p->qid) < 0 ||
            agg_key_offsets(okey, sizeof okey, w->conf->key_prefix, p->topic) < 0)
            continue;
        const char *ex[] = {"EXISTS", key};
        if (store_command(w->store, &r, err, sizeof err, 2, ex) != STORE_OK) {
            worker_note_error(w, "redis_unavailable", err);
            return;
        }
        if (r->type != REDIS_REPLY_INTEGER || r->integer != 0)
            continue;
        int64_t stored = -1;
        if (store_read_offset(w->store, okey, p->partition, &stored, err, sizeof err) !=
                STORE_OK ||
            close_read_state(w, p, err, sizeof err) != 0) {
            worker_note_error(w, "redis_unavailable", err);
            return;
        }
        agg_info("partition_resumed", "topic=%s partition=%d quarter=%s offset=%" PRId64
                 " note=\"the replay is over\"", p->topic, p->partition, p->qid, stored);
        p->replay_held = false;
        part_seek_to_stored(w, p, stored);
        if (p->close_held)
            close_pause_held(w); /* past the marker of an open quarter: stays paused */
        else
            part_pause(w, p, false);
    }
}
