/* batch.c: turns one partition's messages into exact aggregate deltas.
 *
 * Flow: batch_add() decodes and validates each message (rejects go to the DLQ with a
 * reason); the winners -- the highest revision of each record identity in the batch,
 * the first one on a tie -- are read back from Redis (their stored revision and
 * contribution); batch_script_args() then subtracts each replaced contribution and adds
 * the new one in int64, per scope, and lays out the arguments of apply.lua.
 *
 * The stored state of a record is "<revision>|<unit>|<completion>|<target>|<achieved>|<goal>"
 * (empty = absent): exactly what is needed to take its contribution back out. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/contrib.h"
#include "agg/deadline.h"
#include "agg/hash.h"
#include "agg/log.h"
#include "apply_args.h"
#include "args.h"
#include "scopes.h"
#include "worker.h"


typedef struct {
    size_t rec;     /* index into recs */
    bool has_old;
    agg_contrib_t old;
    bool changed;   /* replaces what is stored */
} winner_t;

typedef struct {
    size_t first, count; /* range in winners (sorted by region) */
    int64_t version;     /* "@v" of the key when read; -1 = none */
    char key[AGG_KEY_MAX];
} region_group_t;


/* What the sort looks at first, so that it rarely needs strcmp: the region as a small
 * number (a batch holds few regions) and a hash of the indicator. */
typedef struct {
    uint64_t indicator_hash;
    uint32_t region_id;
} sort_key_t;

typedef struct {
    uint64_t hash;
    char name[AGG_REGION_MAX + 1];
} region_name_t;

struct batch {
    const worker_conf_t *conf;
    admit_topic_t t; /* the topic, its quarter */
    int32_t partition;
    agg_arena_t arena;

    agg_record_t *recs;
    size_t nrecs, recs_cap;
    int64_t *rec_off; /* parallel to recs: each record's offset (to fetch it again) */
    size_t rec_off_cap;
    sort_key_t *keys; /* parallel to recs */
    size_t keys_cap;
    region_name_t *region_names;
    size_t nregion_names, region_names_cap;
    batch_reject_t *rejects;
    size_t nrejects, rejects_cap;
    size_t nmsgs;
    int64_t last_offset;
    bool close;
    agg_close_t marker; /* when close */
    bool late_reject;   /* the partition is past its marker and late records are refused */

    size_t *order; /* sort buffer */
    winner_t *winners;
    size_t nwinners;
    region_group_t *groups;
    size_t ngroups, groups_cap;
    bool winners_ready;

    scopes_t scopes;

    args_t read_args;
    args_t script;
    size_t applied, unchanged;
};


/* The record copies what the worker needs out of the decoded message, so the arena is
 * reset per message: it only has to hold one decoded envelope (title <= 4 KiB). */
#define DECODE_ARENA_SIZE (64 * 1024)

/* ---------------------------------------------------------------- lifecycle */

batch_t *batch_new(const worker_conf_t *conf) {
    batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->conf = conf;
    if (agg_arena_init(&b->arena, DECODE_ARENA_SIZE) != 0) {
        free(b);
        return NULL;
    }
    return b;
}


void batch_free(batch_t *b) {
    if (!b)
        return;
    agg_arena_free(&b->arena);
    free(b->recs);
    free(b->keys);
    free(b->rec_off);
    free(b->region_names);
    free(b->rejects);
    free(b->order);
    free(b->winners);
    free(b->groups);
    scopes_free(&b->scopes);
    args_free(&b->read_args);
    args_free(&b->script);
    free(b);
}

int batch_reset(batch_t *b, const char *topic, int32_t partition) {
    if (admit_topic(&b->t, b->conf, topic) != 0)
        return -1;
    b->partition = partition;
    agg_arena_reset(&b->arena);
    b->nrecs = b->nrejects = b->nmsgs = b->nregion_names = 0;
    b->nwinners = b->ngroups = 0;
    b->last_offset = -1;
    b->close = false;
    memset(&b->marker, 0, sizeof b->marker);
    b->late_reject = false;
    b->winners_ready = false;
    b->applied = b->unchanged = 0;
    return 0;
}

/* ---------------------------------------------------------------- adding messages */

static uint32_t region_id(batch_t *b, const char *region) {
    uint64_t h = agg_fnv1a_str(region);
    for (size_t i = 0; i < b->nregion_names; i++)
        if (b->region_names[i].hash == h && strcmp(b->region_names[i].name, region) == 0)
            return (uint32_t)i;
    b->region_names = grow_or_abort(b->region_names, &b->region_names_cap, b->nregion_names + 1,
                           sizeof *b->region_names);
    region_name_t *r = &b->region_names[b->nregion_names];
    r->hash = h;
    strcpy(r->name, region); /* bounded by validation */
    return (uint32_t)b->nregion_names++;
}

static void reject(batch_t *b, const batch_msg_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(batch_t *b, const batch_msg_t *m, const char *fmt, ...) {
    b->rejects = grow_or_abort(b->rejects, &b->rejects_cap, b->nrejects + 1, sizeof *b->rejects);
    batch_reject_t *r = &b->rejects[b->nrejects++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    r->msg = *m;
}

int batch_add(batch_t *b, const batch_msg_t *m) {
    char reason[sizeof b->rejects->reason];
    agg_msg_t msg;

    b->nmsgs++;
    b->last_offset = m->offset;
    agg_arena_reset(&b->arena);
    switch (admit_message(b->conf, &b->t, m, b->late_reject, &b->arena, &msg, reason,
                          sizeof reason)) {
    case ADMIT_REJECT:
        reject(b, m, "%s", reason);
        return 0;
    case ADMIT_MARKER:
        b->close = true;
        b->marker = msg.close;
        return 1;
    case ADMIT_RECORD:
        break;
    }
    const agg_record_t *r = &msg.record;
    b->recs = grow_or_abort(b->recs, &b->recs_cap, b->nrecs + 1, sizeof *b->recs);
    b->keys = grow_or_abort(b->keys, &b->keys_cap, b->nrecs + 1, sizeof *b->keys);
    b->rec_off = grow_or_abort(b->rec_off, &b->rec_off_cap, b->nrecs + 1, sizeof *b->rec_off);
    b->rec_off[b->nrecs] = m->offset;
    b->keys[b->nrecs].indicator_hash = agg_fnv1a_str(r->indicator);
    b->keys[b->nrecs].region_id = region_id(b, r->region);
    agg_record_t *kept = &b->recs[b->nrecs++];
    *kept = *r;
    kept->title = kept->report_id = NULL; /* they point into the arena, reset next time */
    kept->title_len = kept->report_id_len = 0;
    return 0;
}

size_t batch_count(const batch_t *b) { return b->nmsgs; }
size_t batch_valid(const batch_t *b) { return b->nrecs; }
const agg_close_t *batch_marker(const batch_t *b) { return b->close ? &b->marker : NULL; }
void batch_set_marker_partitions(batch_t *b, int32_t n) { b->marker.partitions = n; }
void batch_set_late_reject(batch_t *b, bool on) { b->late_reject = on; }
const char *batch_quarter(const batch_t *b) { return b->t.qid; }
int64_t batch_last_offset(const batch_t *b) { return b->last_offset; }
const char *batch_topic(const batch_t *b) { return b->t.topic; }
int32_t batch_partition(const batch_t *b) { return b->partition; }
size_t batch_applied(const batch_t *b) { return b->applied; }
size_t batch_unchanged(const batch_t *b) { return b->unchanged; }

size_t batch_rejects(const batch_t *b, const batch_reject_t **out) {
    *out = b->rejects;
    return b->nrejects;
}

/* ---------------------------------------------------------------- winners */

/* Sort by (region, indicator), then revision descending, then arrival: the first of each
 * identity group is its winner; an equal revision never displaces the earlier one. */
static int cmp_rec(const void *pa, const void *pb, void *ctx) {
    const batch_t *b = ctx;
    size_t a = *(const size_t *)pa, c = *(const size_t *)pb;
    const sort_key_t *ka = &b->keys[a], *kc = &b->keys[c];
    if (ka->region_id != kc->region_id)
        return ka->region_id < kc->region_id ? -1 : 1;
    if (ka->indicator_hash != kc->indicator_hash)
        return ka->indicator_hash < kc->indicator_hash ? -1 : 1;
    int d = strcmp(b->recs[a].indicator, b->recs[c].indicator);
    if (d)
        return d;
    if (b->recs[a].revision != b->recs[c].revision)
        return b->recs[a].revision > b->recs[c].revision ? -1 : 1;
    return a < c ? -1 : (a > c);
}

static bool same_identity(const batch_t *b, size_t a, size_t c) {
    return b->keys[a].region_id == b->keys[c].region_id &&
           b->keys[a].indicator_hash == b->keys[c].indicator_hash &&
           strcmp(b->recs[a].indicator, b->recs[c].indicator) == 0;
}

static void find_winners(batch_t *b) {
    size_t n = b->nrecs ? b->nrecs : 1;
    size_t *order = realloc(b->order, n * sizeof *order);
    if (order)
        b->order = order;
    winner_t *winners = order ? realloc(b->winners, n * sizeof *winners) : NULL;
    if (!winners) {
        agg_error("out_of_memory", "what=winners");
        abort();
    }
    b->winners = winners;
    for (size_t i = 0; i < b->nrecs; i++)
        b->order[i] = i;
    qsort_r(b->order, b->nrecs, sizeof *b->order, cmp_rec, b);

    b->nwinners = b->ngroups = 0;
    for (size_t i = 0; i < b->nrecs; i++) {
        const agg_record_t *r = &b->recs[b->order[i]];
        if (i > 0 && same_identity(b, b->order[i - 1], b->order[i]))
            continue;
        if (b->ngroups == 0 ||
            b->keys[b->winners[b->groups[b->ngroups - 1].first].rec].region_id !=
                b->keys[b->order[i]].region_id) {
            b->groups = grow_or_abort(b->groups, &b->groups_cap, b->ngroups + 1, sizeof *b->groups);
            region_group_t *g = &b->groups[b->ngroups++];
            g->first = b->nwinners;
            g->count = 0;
            g->version = -1;
            if (agg_key_records(g->key, sizeof g->key, b->conf->key_prefix, b->t.qid,
                                r->region) < 0)
                g->key[0] = '\0'; /* cannot happen: lengths are bounded by validation */
        }
        winner_t *w = &b->winners[b->nwinners++];
        memset(w, 0, sizeof *w);
        w->rec = b->order[i];
        b->groups[b->ngroups - 1].count++;
    }
    b->winners_ready = true;
}

size_t batch_read_cmds(batch_t *b) {
    if (!b->winners_ready)
        find_winners(b);
    return b->ngroups;
}

int batch_read_cmd(batch_t *b, size_t i, int *argc, const char ***argv,
                   const size_t **argvlen) {
    if (i >= b->ngroups)
        return -1;
    const region_group_t *g = &b->groups[i];
    args_t *a = &b->read_args;
    args_clear(a);
    args_str(a, "HMGET");
    args_str(a, g->key);
    args_str(a, "@v");
    for (size_t k = 0; k < g->count; k++)
        args_str(a, b->recs[b->winners[g->first + k].rec].indicator);
    args_finish(a, 0);
    *argc = (int)a->n;
    *argv = a->argv;
    *argvlen = a->alen;
    return 0;
}


/* The "@v" version of a record-state key: digits only, at most int64. */
static int parse_version(const char *s, size_t len, int64_t *out) {
    int64_t v = 0;
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int batch_read_reply(batch_t *b, size_t i, const redisReply *reply, char *errstr,
                     size_t errstr_size) {
    region_group_t *g = &b->groups[i];
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != g->count + 1) {
        snprintf(errstr, errstr_size, "HMGET %s: unexpected reply", g->key);
        return -1;
    }
    const redisReply *v = reply->element[0];
    g->version = -1;
    if (v->type == REDIS_REPLY_STRING) {
        if (parse_version(v->str, v->len, &g->version) != 0) {
            snprintf(errstr, errstr_size, "corrupt record state %s field @v", g->key);
            return -1;
        }
    } else if (v->type != REDIS_REPLY_NIL) {
        snprintf(errstr, errstr_size, "HMGET %s: unexpected reply", g->key);
        return -1;
    }
    for (size_t k = 0; k < g->count; k++) {
        winner_t *w = &b->winners[g->first + k];
        const redisReply *e = reply->element[k + 1];
        w->has_old = false;
        if (e->type == REDIS_REPLY_NIL)
            continue;
        if (e->type != REDIS_REPLY_STRING || agg_contrib_parse(e->str, e->len, &w->old) != 0) {
            snprintf(errstr, errstr_size, "corrupt record state %s field %s", g->key,
                     b->recs[w->rec].indicator);
            return -1;
        }
        w->has_old = true;
    }
    return 0;
}

int batch_script_args(batch_t *b, int64_t expected, int64_t now_ms, int *argc,
                      const char ***argv, const size_t **argvlen, char *errstr,
                      size_t errstr_size) {
    args_t *a = &b->script;

    if (!b->winners_ready)
        find_winners(b);
    args_clear(a);

    apply_step_t step = {.topic = b->t.topic, .qid = b->t.qid, .year = b->t.year,
                         .quarter = b->t.quarter, .partition = b->partition,
                         .expected = expected, .next_offset = b->last_offset + 1,
                         .now_ms = now_ms, .marker = b->close ? &b->marker : NULL,
                         .nvalid = (int64_t)b->nrecs};
    if (apply_fixed_args(a, b->conf, &step, errstr, errstr_size) != 0)
        return -1;

    /* Record states (compare-and-set) and deltas. */
    scopes_clear(&b->scopes);
    b->applied = b->unchanged = 0;

    size_t ngroups_at = args_reserve(a);
    int64_t ngroups = 0;
    for (size_t gi = 0; gi < b->ngroups; gi++) {
        const region_group_t *g = &b->groups[gi];
        size_t key_at = a->n;
        args_str(a, g->key);
        if (g->version >= 0)
            args_i64(a, g->version);
        else
            args_str(a, "");
        size_t m_at = args_reserve(a);
        int64_t m = 0;
        for (size_t k = 0; k < g->count; k++) {
            winner_t *w = &b->winners[g->first + k];
            const agg_record_t *r = &b->recs[w->rec];
            w->changed = !w->has_old || agg_contrib_replaces(&w->old, r->revision);
            if (!w->changed)
                continue;
            agg_contrib_t nc;
            agg_contrib_of(r, &nc);
            if ((w->has_old && scopes_add(&b->scopes, r->region, &w->old, -1) != 0) ||
                scopes_add(&b->scopes, r->region, &nc, +1) != 0) {
                snprintf(errstr, errstr_size,
                         "int64 overflow in the deltas of region %s, indicator %s",
                         r->region, r->indicator);
                return -1;
            }
            char state[AGG_CONTRIB_STATE_MAX];
            args_str(a, r->indicator);
            args_add(a, state, agg_contrib_format(&nc, state));
            m++;
            b->applied++;
        }
        if (m == 0) {
            a->n = key_at; /* drop the empty group; its strings are just dead bytes */
            continue;
        }
        args_patch(a, m_at, m);
        ngroups++;
    }
    args_patch(a, ngroups_at, ngroups);
    /* Duplicates and stale revisions merged away inside the batch count as unchanged. */
    b->unchanged = b->nrecs - b->applied;

    scopes_emit(&b->scopes, a, b->conf->key_prefix, b->t.qid);

    /* Latest submission per region over every valid record received, duplicates and
     * stale revisions included: a maximum over all of them does not depend on the order
     * they arrive in, so a replay or an independent computation gets the same score. */
    size_t nreg_at = args_reserve(a);
    int64_t nreg = 0;
    for (size_t i = 0; i < b->nrecs;) {
        const agg_record_t *first = &b->recs[b->order[i]];
        int64_t max_ms = first->submitted_ms, min_ms = 0;
        size_t k = i;
        for (; k < b->nrecs && b->keys[b->order[k]].region_id == b->keys[b->order[i]].region_id;
             k++) {
            int64_t t = b->recs[b->order[k]].submitted_ms;
            if (t > max_ms)
                max_ms = t;
            /* The first submission (timeliness) is a minimum over known times, so it
             * does not depend on arrival order either; 0 = unknown. */
            if (t > 0 && (min_ms == 0 || t < min_ms))
                min_ms = t;
        }
        args_str(a, first->region);
        args_i64(a, max_ms);
        if (min_ms > 0)
            args_i64(a, min_ms);
        else
            args_str(a, "");
        nreg++;
        i = k;
    }
    args_patch(a, nreg_at, nreg);

    args_finish(a, 0);
    *argc = (int)a->n;
    *argv = a->argv;
    *argvlen = a->alen;
    return 0;
}

size_t batch_overflow_culprits(batch_t *b, const char *key, const char *field, int64_t *offs,
                               size_t max) {
    /* The field names a summed amount of one unit: target_x100:<unit> or
     * achieved_x100:<unit>. */
    bool target = strncmp(field, "target_x100:", 12) == 0;
    bool achieved = strncmp(field, "achieved_x100:", 14) == 0;
    if ((!target && !achieved) || !b->winners_ready)
        return 0;
    const char *unit = field + (target ? 12 : 14);
    /* Which scope the key is: the batch's own table knows every key it sent. */
    const scope_t *sc = NULL;
    char k[AGG_KEY_MAX];
    for (size_t i = 0; i < b->scopes.cap && !sc; i++) {
        const scope_t *s = &b->scopes.slots[i];
        if (s->used && agg_key_scope(k, sizeof k, b->conf->key_prefix, b->t.qid,
                                     s->region[0] ? s->region : NULL,
                                     s->goal[0] ? s->goal : NULL) > 0 &&
            strcmp(k, key) == 0)
            sc = s;
    }
    if (!sc)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < b->nwinners && n < max; i++) {
        const winner_t *w = &b->winners[i];
        const agg_record_t *r = &b->recs[w->rec];
        if (!w->changed || strcmp(agg_unit_name(r->unit), unit) != 0 ||
            (sc->region[0] && strcmp(sc->region, r->region) != 0) ||
            (sc->goal[0] && strcmp(sc->goal, r->goal) != 0))
            continue;
        if ((target && r->has_target && r->target_x100 != 0) ||
            (achieved && r->has_achieved && r->achieved_x100 != 0))
            offs[n++] = b->rec_off[w->rec];
    }
    return n;
}

void batch_remove_offsets(batch_t *b, const int64_t *offs, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < b->nrecs; i++) {
        bool drop = false;
        for (size_t k = 0; k < n && !drop; k++)
            drop = b->rec_off[i] == offs[k];
        if (drop)
            continue;
        b->recs[j] = b->recs[i];
        b->keys[j] = b->keys[i];
        b->rec_off[j] = b->rec_off[i];
        j++;
    }
    b->nrecs = j;
    b->winners_ready = false; /* winners, reads and deltas are computed again */
}
