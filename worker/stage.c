/* stage.c: the recomputed quarter -> the staging keys (recompute.h).
 *
 * 1. Record states: one HSET per region and 1,000 identities, pipelined, "@v" = 1 (the
 *    version the live path gives a key's first write). Nothing else writes them: the
 *    steps below carry no record state.
 * 2. apply.lua steps, as the live path would make them with one batch per partition:
 *    first, per partition in order, its records up to its close marker -- the first
 *    step carries every scope delta of the close point and every region's submission
 *    times, then each step its partition's marker and offset, so the step whose marker
 *    completes the set closes the quarter and writes its summaries to the (staged)
 *    outbox exactly as the live close did; then, when the quarter closes, one step per
 *    partition with records past its marker moves its offset to the end, the first
 *    carrying what the late records move.
 * A staging key is written only here; replay.c deletes them all when anything fails. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "apply_args.h"
#include "recompute.h"

#define STATES_PER_HSET 1000
#define PIPELINE_WINDOW 32
/* Every this many HSETs the pipeline is drained, the lock renewed (when due) and a
 * signal looked at: a write of millions of states takes seconds. */
#define KEEPALIVE_EVERY 128

typedef struct {
    store_t *st;
    int outstanding;
    char *err;
    size_t errsz;
} pipe_t;

static int drain(pipe_t *p, int keep) {
    while (p->outstanding > keep) {
        redisReply *r;
        if (store_reply(p->st, &r, p->err, p->errsz) != STORE_OK)
            return -1;
        p->outstanding--;
        if (r->type != REDIS_REPLY_INTEGER) {
            snprintf(p->err, p->errsz, "HSET of a staged record state: %s",
                     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            return -1;
        }
    }
    return 0;
}

static int write_states(recompute_t *rc, store_t *st, const worker_conf_t *sconf,
                        replay_run_t *run, char *err, size_t errsz) {
    size_t nreg = rc->regions.n;
    size_t *start = calloc(nreg + 1, sizeof *start);
    uint32_t *order = malloc((rc->nids ? rc->nids : 1) * sizeof *order);
    args_t a = {0};
    pipe_t p = {.st = st, .err = err, .errsz = errsz};
    int result = -1;
    size_t sent = 0;
    if (!start || !order) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    /* Grouped by region (a counting sort): one record-state key per region. */
    for (size_t i = 0; i < rc->nids; i++)
        start[rc->ids[i].region + 1]++;
    for (size_t r = 0; r < nreg; r++)
        start[r + 1] += start[r];
    for (size_t i = 0; i < rc->nids; i++)
        order[start[rc->ids[i].region]++] = (uint32_t)i;
    for (size_t r = nreg; r > 0; r--)
        start[r] = start[r - 1];
    start[0] = 0;

    for (size_t r = 0; r < nreg; r++) {
        char key[AGG_KEY_MAX];
        if (agg_key_records(key, sizeof key, sconf->key_prefix, rc->t.qid,
                            rc->regions.names[r]) < 0) {
            snprintf(err, errsz, "record-state key too long for region %s",
                     rc->regions.names[r]);
            goto out;
        }
        for (size_t i = start[r]; i < start[r + 1];) {
            args_clear(&a);
            args_str(&a, "HSET");
            args_str(&a, key);
            if (i == start[r]) {
                args_str(&a, "@v");
                args_str(&a, "1");
            }
            for (size_t k = 0; k < STATES_PER_HSET && i < start[r + 1]; k++, i++) {
                const ident_t *id = &rc->ids[order[i]];
                agg_contrib_t c;
                char state[AGG_CONTRIB_STATE_MAX];
                recompute_contrib(rc, id, &c);
                args_str(&a, rc->pool + id->indicator);
                args_add(&a, state, agg_contrib_format(&c, state));
            }
            args_finish(&a, 0);
            if (store_append(st, (int)a.n, a.argv, a.alen, err, errsz) != STORE_OK)
                goto out;
            p.outstanding++;
            if (++sent % KEEPALIVE_EVERY == 0 &&
                (drain(&p, 0) != 0 || !replay_go_on(run, st, (int64_t)run->total, err, errsz)))
                goto out;
            if (drain(&p, PIPELINE_WINDOW) != 0)
                goto out;
        }
    }
    result = drain(&p, 0);
out:
    if (result != 0 && p.outstanding > 0)
        store_disconnect(st); /* replies still due: the connection is out of step */
    args_free(&a);
    free(start);
    free(order);
    return result;
}

/* Appends "r, then r times: region, max ms, min ms" of the region times before the
 * markers (post = false) or after them. */
static void region_args(const recompute_t *rc, args_t *a, bool post) {
    size_t n_at = args_reserve(a);
    int64_t n = 0;
    for (size_t r = 0; r < rc->ntimes; r++) {
        const region_times_t *t = &rc->times[r];
        if (!(post ? t->post_has : t->has))
            continue;
        int64_t mn = post ? t->post_min_ms : t->min_ms;
        args_str(a, rc->regions.names[r]);
        args_i64(a, post ? t->post_max_ms : t->max_ms);
        if (mn > 0)
            args_i64(a, mn);
        else
            args_str(a, "");
        n++;
    }
    args_patch(a, n_at, n);
}

/* One apply.lua step; with scopes = NULL and no regions it only moves the offset (and
 * applies the marker). */
static int step(recompute_t *rc, store_t *st, const worker_conf_t *sconf, args_t *a,
                const apply_step_t *s, const scopes_t *scopes, int regions, char *err,
                size_t errsz) {
    static const scopes_t none;
    args_clear(a);
    if (apply_fixed_args(a, sconf, s, err, errsz) != 0)
        return -1;
    args_str(a, "0"); /* no record states: write_states() wrote them */
    scopes_emit(scopes ? scopes : &none, a, sconf->key_prefix, rc->t.qid);
    if (regions >= 0) {
        region_args(rc, a, regions == 1);
    } else {
        args_str(a, "0");
    }
    args_finish(a, 0);
    redisReply *r;
    if (store_append_script(st, STORE_SCRIPT_APPLY, (int)a->n, a->argv, a->alen, err, errsz) !=
            STORE_OK ||
        store_reply(st, &r, err, errsz) != STORE_OK)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->str &&
        strcmp(r->element[0]->str, APPLY_REPLY_OK) == 0)
        return 0;
    snprintf(err, errsz, "apply.lua on the staging keys, partition %d: %s", (int)s->partition,
             r->type == REDIS_REPLY_ERROR ? r->str
             : r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->str
                 ? r->element[0]->str
                 : "unexpected reply");
    return -1;
}

int stage_write(recompute_t *rc, store_t *st, const worker_conf_t *sconf, replay_run_t *run,
                char *err, size_t errsz) {
    /* The read may have outlived a connection (replay_keepalive() made it again, or
     * could not): connect now rather than fail on the first HSET. */
    if (!replay_go_on(run, st, (int64_t)run->total, err, errsz) ||
        store_connect(st, err, errsz) != STORE_OK ||
        write_states(rc, st, sconf, run, err, errsz) != 0)
        return -1;
    args_t a = {0};
    int result = -1;
    int64_t now = agg_now_ms();
    bool first = true;
    for (int p = 0; p < rc->nparts; p++) {
        const recompute_part_t *pp = &rc->parts[p];
        if (pp->end <= 0)
            continue;
        apply_step_t s = {.topic = rc->t.topic, .qid = rc->t.qid, .year = rc->t.year,
                          .quarter = rc->t.quarter, .partition = p, .expected = -1,
                          .next_offset = pp->marked ? pp->marker_offset + 1 : pp->end,
                          .now_ms = now, .marker = pp->marked ? &pp->marker : NULL,
                          .nvalid = first ? (int64_t)(rc->valid - rc->late_records) : 0};
        if (!replay_go_on(run, st, (int64_t)run->total, err, errsz) ||
            step(rc, st, sconf, &a, &s, first ? &rc->close_point : NULL, first ? 0 : -1, err,
                 errsz) != 0)
            goto out;
        first = false;
    }
    if (rc->closes) {
        bool late = !rc->conf->late_reject;
        for (int p = 0; p < rc->nparts; p++) {
            const recompute_part_t *pp = &rc->parts[p];
            if (pp->end <= pp->marker_offset + 1)
                continue;
            apply_step_t s = {.topic = rc->t.topic, .qid = rc->t.qid, .year = rc->t.year,
                              .quarter = rc->t.quarter, .partition = p,
                              .expected = pp->marker_offset + 1, .next_offset = pp->end,
                              .now_ms = now, .nvalid = late ? (int64_t)rc->late_records : 0};
            if (!replay_go_on(run, st, (int64_t)run->total, err, errsz) ||
                step(rc, st, sconf, &a, &s, late ? &rc->late_deltas : NULL, late ? 1 : -1, err,
                     errsz) != 0)
                goto out;
            late = false;
        }
    }
    result = 0;
out:
    args_free(&a);
    return result;
}
