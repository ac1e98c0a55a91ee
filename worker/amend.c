/* amend.c: amended summaries of closed quarters (SPEC 8, late records under `amend`).
 *
 * apply.lua counts late records on the quarter's state; amend.lua decides, atomically,
 * whether a burst has come to rest (--amend-quiet-ms without another one, or
 * --amend-max-delay-ms after the first) and then writes the next revision to the
 * outbox. Every worker that owns a partition of a closed quarter asks now and then;
 * whichever asks first after the burst settles emits it, once. */
#include <stdio.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

static void amend_one(worker_run_t *w, const part_t *p) {
    char state[AGG_KEY_MAX], base[AGG_KEY_MAX], regions[AGG_KEY_MAX], goals[AGG_KEY_MAX],
        first[AGG_KEY_MAX], offsets[AGG_KEY_MAX], outbox[AGG_KEY_MAX], now[24], quiet[24],
        maxd[24], err[256];
    const char *kp = w->conf->key_prefix;
    if (agg_key_state(state, sizeof state, kp, p->qid) < 0 ||
        agg_key_scope_base(base, sizeof base, kp, p->qid) < 0 ||
        agg_key_regions(regions, sizeof regions, kp, p->qid) < 0 ||
        agg_key_goals(goals, sizeof goals, kp, p->qid) < 0 ||
        agg_key_regions_first(first, sizeof first, kp, p->qid) < 0 ||
        agg_key_offsets(offsets, sizeof offsets, kp, p->topic) < 0 ||
        agg_key_outbox(outbox, sizeof outbox, kp) < 0)
        return;
    snprintf(now, sizeof now, "%lld", agg_now_ms());
    snprintf(quiet, sizeof quiet, "%ld", w->conf->amend_quiet_ms);
    snprintf(maxd, sizeof maxd, "%ld", w->conf->amend_max_delay_ms);
    const char *argv[] = {state, now, quiet, maxd, base, p->qid, regions, goals, first,
                          offsets, p->topic, outbox, w->conf->expected_regions_csv};
    size_t lens[13];
    for (int i = 0; i < 13; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r;
    if (store_append_script(w->store, STORE_SCRIPT_AMEND, 13, argv, lens, err, sizeof err) !=
            STORE_OK ||
        store_reply(w->store, &r, err, sizeof err) != STORE_OK) {
        worker_note_error(w, "redis_unavailable", err);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        store_classify_error(w->store, r, err, sizeof err);
        worker_note_error(w, "amend_failed", err);
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->str &&
        strcmp(r->element[0]->str, "EMITTED") == 0) {
        agg_info("quarter_amended", "quarter=%s revision=%s note=\"summaries in the outbox\"",
                 p->qid, r->element[1]->str ? r->element[1]->str : "?");
        w->outbox_dirty = true;
    }
}

void amend_check(worker_run_t *w) {
    char err[256];
    if (store_connect(w->store, err, sizeof err) != STORE_OK)
        return;
    for (size_t i = 0; i < w->nparts; i++) {
        const part_t *p = &w->parts[i];
        /* Past its marker and not held: its quarter is closed. Once per quarter. */
        if (!p->used || !p->past_marker || p->close_held || !p->qid[0])
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = w->parts[k].used && w->parts[k].past_marker && !w->parts[k].close_held &&
                   strcmp(w->parts[k].qid, p->qid) == 0;
        if (!seen)
            amend_one(w, p);
    }
}
