/* recompute.c: a quarter's topic -> its latest revisions in memory (recompute.h).
 *
 * Per partition, in offset order, as the live path sees it: every message goes through
 * admit_message(); records before the partition's first close marker update the
 * identity table by the revision rule at once; records after it are kept aside, because
 * the live path holds them until every partition has its marker and only then applies
 * them (late records) -- or, under the reject policy, refuses them. Whether the quarter
 * closes is known only at the end of the read; recompute_finish() decides. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/hash.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "recompute.h"

#define DECODE_ARENA_SIZE (64 * 1024)
#define POLL_BATCH 4096
/* An amount sum beyond this (over every valid record, absolute values) could reach the
 * live path's int64 guard (apply.lua refuses sums within ~2.2e17 of 2^63), where which
 * record is refused depends on the order of arrival: such a quarter takes the live path. */
#define ABS_AMOUNTS_MAX 4.0e18

/* ---------------------------------------------------------------- memory */

/* Grows *p to hold need elements, counting the bytes against the bound. false = over
 * the bound (or out of memory): the caller falls back. */
static bool grow(recompute_t *rc, void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    size_t more = (ncap - *cap) * elem;
    if (rc->memory + more > rc->memory_max)
        return false;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return false;
    rc->memory += more;
    *p = np;
    *cap = ncap;
    return true;
}

/* ---------------------------------------------------------------- names */

static uint32_t hash32(uint64_t h) { return (uint32_t)(h ^ (h >> 32)); }

static bool names_rehash(recompute_t *rc, names_t *t, size_t ncap) {
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (!ns || rc->memory + ncap * sizeof *ns > rc->memory_max) {
        free(ns);
        return false;
    }
    for (size_t i = 0; i < t->slots_cap; i++) {
        if (!t->slots[i])
            continue;
        size_t j = (t->slots[i] >> 32) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slots[i];
    }
    rc->memory += (ncap - t->slots_cap) * sizeof *ns;
    free(t->slots);
    t->slots = ns;
    t->slots_cap = ncap;
    return true;
}

/* The index of name (interned on first sight), or -1 when memory is over the bound. */
static int64_t names_get(recompute_t *rc, names_t *t, const char *name) {
    if ((t->n + 1) * 2 > t->slots_cap && !names_rehash(rc, t, t->slots_cap ? t->slots_cap * 2 : 64))
        return -1;
    uint32_t h = hash32(agg_fnv1a_str(name));
    size_t mask = t->slots_cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t s = t->slots[j];
        if (!s) {
            if (!grow(rc, (void **)&t->names, &t->cap, t->n + 1, sizeof *t->names))
                return -1;
            snprintf(t->names[t->n], sizeof t->names[t->n], "%s", name); /* bounded by validation */
            t->slots[j] = (uint64_t)h << 32 | (t->n + 1);
            return (int64_t)t->n++;
        }
        if ((uint32_t)(s >> 32) == h && strcmp(t->names[(uint32_t)s - 1], name) == 0)
            return (int64_t)(uint32_t)s - 1;
    }
}

static void names_free(names_t *t) {
    free(t->names);
    free(t->slots);
}

/* ---------------------------------------------------------------- identities */

static uint32_t ident_hash(uint32_t region, const char *indicator) {
    return hash32(agg_fnv1a(agg_fnv1a(AGG_FNV1A_INIT, &region, sizeof region), indicator,
                            strlen(indicator)));
}

static bool ids_rehash(recompute_t *rc, size_t ncap) {
    if (rc->memory + ncap * sizeof *rc->slots > rc->memory_max)
        return false;
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < rc->slots_cap; i++) {
        if (!rc->slots[i])
            continue;
        size_t j = (rc->slots[i] >> 32) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = rc->slots[i];
    }
    rc->memory += (ncap - rc->slots_cap) * sizeof *ns;
    free(rc->slots);
    rc->slots = ns;
    rc->slots_cap = ncap;
    return true;
}

/* The table's slot of (region, indicator): an index + 1, or 0 with *slot_out where it
 * would go. */
static uint64_t *ids_find(recompute_t *rc, uint32_t region, const char *indicator,
                          uint32_t h) {
    size_t mask = rc->slots_cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t *s = &rc->slots[j];
        if (!*s)
            return s;
        const ident_t *id = &rc->ids[(uint32_t)*s - 1];
        if ((uint32_t)(*s >> 32) == h && id->region == region &&
            strcmp(rc->pool + id->indicator, indicator) == 0)
            return s;
    }
}

static bool pool_add(recompute_t *rc, const char *s, uint32_t *off) {
    size_t len = strlen(s) + 1;
    if (rc->pool_len + len > UINT32_MAX ||
        !grow(rc, (void **)&rc->pool, &rc->pool_cap, rc->pool_len + len, 1))
        return false;
    memcpy(rc->pool + rc->pool_len, s, len);
    *off = (uint32_t)rc->pool_len;
    rc->pool_len += len;
    return true;
}

static void ident_of(ident_t *id, const agg_record_t *r, uint32_t region, uint32_t goal) {
    id->region = region;
    id->goal = goal;
    id->revision = r->revision;
    id->completion_x100 = r->completion_x100;
    id->unit = (uint8_t)r->unit;
    id->has_completion = r->has_completion;
    id->has_target = r->has_target;
    id->has_achieved = r->has_achieved;
    id->target_x100 = r->target_x100;
    id->achieved_x100 = r->achieved_x100;
}

void recompute_contrib(const recompute_t *rc, const ident_t *id, agg_contrib_t *c) {
    memset(c, 0, sizeof *c);
    c->revision = id->revision;
    c->unit = (agg_unit_t)id->unit;
    c->has_completion = id->has_completion;
    c->completion_x100 = id->completion_x100;
    c->has_target = id->has_target;
    c->target_x100 = id->target_x100;
    c->has_achieved = id->has_achieved;
    c->achieved_x100 = id->achieved_x100;
    memcpy(c->goal, rc->goals.names[id->goal], sizeof c->goal);
}

/* Applies one record to the table by the revision rule. *old (when replaced) gets the
 * contribution it replaced. in_pool: nid->indicator is already the indicator's offset
 * in the pool (a late record), and indicator points there. Returns 1 applied (new or replacing; *had_old says which),
 * 0 unchanged, -1 over the memory bound. */
static int recompute_upsert(recompute_t *rc, const ident_t *nid, const char *indicator,
                            bool in_pool, ident_t *old, bool *had_old) {
    if ((rc->nids + 1) * 2 > rc->slots_cap &&
        !ids_rehash(rc, rc->slots_cap ? rc->slots_cap * 2 : 1 << 16))
        return -1;
    uint32_t h = ident_hash(nid->region, indicator);
    uint64_t *s = ids_find(rc, nid->region, indicator, h);
    *had_old = false;
    if (*s) {
        ident_t *id = &rc->ids[(uint32_t)*s - 1];
        agg_contrib_t stored = {.revision = id->revision};
        if (!agg_contrib_replaces(&stored, nid->revision))
            return 0;
        *old = *id;
        *had_old = true;
        uint32_t ind = id->indicator;
        *id = *nid;
        id->indicator = ind;
        return 1;
    }
    if (rc->nids >= UINT32_MAX - 1 ||
        !grow(rc, (void **)&rc->ids, &rc->ids_cap, rc->nids + 1, sizeof *rc->ids))
        return -1;
    ident_t *id = &rc->ids[rc->nids];
    *id = *nid;
    if (!in_pool && !pool_add(rc, indicator, &id->indicator))
        return -1;
    *s = (uint64_t)h << 32 | (rc->nids + 1);
    rc->nids++;
    return 1;
}

/* ---------------------------------------------------------------- reading */

static void times_add(region_times_t *t, bool post, int64_t ms) {
    bool *has = post ? &t->post_has : &t->has;
    int64_t *mx = post ? &t->post_max_ms : &t->max_ms, *mn = post ? &t->post_min_ms : &t->min_ms;
    /* As batch_script_args: the max over every valid record (duplicates and stale
     * revisions too), the min over known times (0 = unknown). */
    if (!*has || ms > *mx)
        *mx = ms;
    if (ms > 0 && (*mn == 0 || ms < *mn))
        *mn = ms;
    *has = true;
}

typedef struct {
    recompute_t *rc;
    agg_arena_t arena;
    char *why;
    size_t whysz;
} reader_t;

/* One message of partition p. RECOMPUTE_OK, or FALLBACK with the reason. */
static recompute_rc_t on_message(reader_t *rd, recompute_part_t *p,
                                 const rd_kafka_message_t *m) {
    recompute_t *rc = rd->rc;
    char reason[384];
    agg_msg_t msg;
    p->next = m->offset + 1;
    bool post = p->marked;
    if (post)
        p->messages_post++;
    else
        p->messages_pre++;
    batch_msg_t bm = {.key = m->key, .key_len = m->key_len, .value = m->payload,
                      .value_len = m->len, .offset = m->offset, .opaque = m};
    agg_arena_reset(&rd->arena);
    /* late_reject is decided at the end (only a quarter that closes refuses them). */
    admit_t a = admit_message(rc->conf, &rc->t, &bm, false, &rd->arena, &msg, reason,
                              sizeof reason);
    if (a == ADMIT_REJECT) {
        if (post)
            p->rejects_post++;
        else
            p->rejects_pre++;
        return RECOMPUTE_OK;
    }
    if (a == ADMIT_MARKER) {
        if (!post) {
            p->marked = true;
            p->marker = msg.close;
            p->marker_offset = m->offset;
            /* Written before v2: the topic's partitions now, as consume.c counts them. */
            if (p->marker.partitions <= 0)
                p->marker.partitions = rc->nparts;
        }
        return RECOMPUTE_OK; /* a second marker of a partition changes nothing */
    }
    const agg_record_t *r = &msg.record;
    int64_t region = names_get(rc, &rc->regions, r->region);
    int64_t goal = region < 0 ? -1 : names_get(rc, &rc->goals, r->goal);
    if (goal < 0 || !grow(rc, (void **)&rc->times, &rc->times_cap, rc->regions.n,
                          sizeof *rc->times))
        goto memory;
    for (; rc->ntimes < rc->regions.n; rc->ntimes++)
        memset(&rc->times[rc->ntimes], 0, sizeof *rc->times);
    if (r->has_target)
        rc->abs_amounts += (double)llabs(r->target_x100);
    if (r->has_achieved)
        rc->abs_amounts += (double)llabs(r->achieved_x100);
    if (rc->abs_amounts > ABS_AMOUNTS_MAX) {
        snprintf(rd->why, rd->whysz, "amounts of this quarter sum to more than %.0e in "
                 "absolute value (near int64)", ABS_AMOUNTS_MAX);
        return RECOMPUTE_FALLBACK;
    }
    times_add(&rc->times[region], post, r->submitted_ms);
    ident_t nid;
    ident_of(&nid, r, (uint32_t)region, (uint32_t)goal);
    if (post) {
        /* Under either policy the record waits for the close; with amend it is applied
         * then, with reject refused then (recompute_finish). */
        p->valid_post++;
        if (rc->conf->late_reject)
            return RECOMPUTE_OK;
        if (!grow(rc, (void **)&rc->late, &rc->late_cap, rc->nlate + 1, sizeof *rc->late) ||
            !pool_add(rc, r->indicator, &nid.indicator))
            goto memory;
        rc->late[rc->nlate++].id = nid;
        return RECOMPUTE_OK;
    }
    rc->valid++;
    ident_t old;
    bool had_old;
    int u = recompute_upsert(rc, &nid, r->indicator, false, &old, &had_old);
    if (u < 0)
        goto memory;
    if (u)
        rc->applied++;
    else
        rc->unchanged++;
    return RECOMPUTE_OK;
memory:
    snprintf(rd->why, rd->whysz, "the quarter needs more than --replay-memory-mb=%zu in "
             "memory", rc->memory_max >> 20);
    return RECOMPUTE_FALLBACK;
}

static bool all_read(const recompute_t *rc) {
    for (int p = 0; p < rc->nparts; p++)
        if (rc->parts[p].next < rc->parts[p].end && !rc->parts[p].at_end)
            return false;
    return true;
}

static int64_t messages_read(const recompute_t *rc) {
    int64_t n = 0;
    for (int p = 0; p < rc->nparts; p++)
        n += rc->parts[p].next;
    return n;
}

/* ---------------------------------------------------------------- the scopes */

/* Contributions summed per (region, goal) first -- a few hundred cells for a million
 * records -- then each cell into its four scopes. */
typedef struct {
    uint64_t *keys; /* region << 32 | goal, + 1 in the low word's slot marker below */
    int64_t (*d)[AGG_F__N];
    bool *used;
    size_t cap, n;
} cells_t;

static int64_t *cell(recompute_t *rc, cells_t *c, uint32_t region, uint32_t goal) {
    if ((c->n + 1) * 2 > c->cap) {
        cells_t nc = {.cap = c->cap ? c->cap * 2 : 1024};
        size_t bytes = nc.cap * (sizeof *nc.keys + sizeof *nc.d + sizeof *nc.used);
        if (rc->memory + bytes > rc->memory_max)
            return NULL;
        nc.keys = calloc(nc.cap, sizeof *nc.keys);
        nc.d = calloc(nc.cap, sizeof *nc.d);
        nc.used = calloc(nc.cap, sizeof *nc.used);
        if (!nc.keys || !nc.d || !nc.used) {
            free(nc.keys);
            free(nc.d);
            free(nc.used);
            return NULL;
        }
        rc->memory += bytes;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->used[i])
                continue;
            size_t j = hash32(c->keys[i] * 0x9e3779b97f4a7c15ULL) & (nc.cap - 1);
            while (nc.used[j])
                j = (j + 1) & (nc.cap - 1);
            nc.used[j] = true;
            nc.keys[j] = c->keys[i];
            memcpy(nc.d[j], c->d[i], sizeof nc.d[j]);
        }
        nc.n = c->n;
        free(c->keys);
        free(c->d);
        free(c->used);
        *c = nc;
    }
    uint64_t k = (uint64_t)region << 32 | goal;
    size_t mask = c->cap - 1;
    for (size_t j = hash32(k * 0x9e3779b97f4a7c15ULL) & mask;; j = (j + 1) & mask) {
        if (!c->used[j]) {
            c->used[j] = true;
            c->keys[j] = k;
            c->n++;
            return c->d[j];
        }
        if (c->keys[j] == k)
            return c->d[j];
    }
}

static void cells_free(cells_t *c) {
    free(c->keys);
    free(c->d);
    free(c->used);
}

static int add_ident(recompute_t *rc, cells_t *c, const ident_t *id, int sign) {
    agg_contrib_t ct;
    recompute_contrib(rc, id, &ct);
    int64_t *d = cell(rc, c, id->region, id->goal);
    return d && agg_contrib_add(d, &ct, sign) == 0 ? 0 : -1;
}

static int cells_to_scopes(const recompute_t *rc, const cells_t *c, scopes_t *out) {
    for (size_t i = 0; i < c->cap; i++)
        if (c->used[i] &&
            scopes_add_deltas(out, rc->regions.names[c->keys[i] >> 32],
                              rc->goals.names[(uint32_t)c->keys[i]], c->d[i]) != 0)
            return -1;
    return 0;
}

/* After the read: does the quarter close; the scopes at the close point; what the late
 * records move. */
static recompute_rc_t recompute_finish(recompute_t *rc, char *why, size_t whysz) {
    int marked = 0, first = -1;
    for (int p = 0; p < rc->nparts; p++) {
        if (!rc->parts[p].marked)
            continue;
        marked++;
        if (first < 0)
            first = p;
        if (rc->parts[p].marker.partitions != rc->nparts) {
            snprintf(why, whysz, "the close marker of partition %d counts %d partitions, the "
                     "topic has %d", p, (int)rc->parts[p].marker.partitions, rc->nparts);
            return RECOMPUTE_FALLBACK;
        }
    }
    rc->closes = first >= 0 && marked >= rc->nparts;
    rc->messages = 0;
    rc->rejects = 0;
    for (int p = 0; p < rc->nparts; p++) {
        const recompute_part_t *pp = &rc->parts[p];
        rc->messages += pp->messages_pre;
        rc->rejects += pp->rejects_pre;
        if (!pp->marked || rc->closes) {
            /* Read to its end; a held partition (past its marker, quarter open) stops
             * at the marker, as the live path does. */
            rc->messages += pp->messages_post;
            rc->rejects += pp->rejects_post;
            if (rc->closes && rc->conf->late_reject)
                rc->rejects += pp->valid_post;
        }
    }

    cells_t pre = {0}, late = {0};
    recompute_rc_t result = RECOMPUTE_FALLBACK;
    for (size_t i = 0; i < rc->nids; i++)
        if (add_ident(rc, &pre, &rc->ids[i], +1) != 0)
            goto overflow;
    if (cells_to_scopes(rc, &pre, &rc->close_point) != 0)
        goto overflow;
    if (rc->closes && !rc->conf->late_reject) {
        /* After the close, in the order they were read: each replaces what the close
         * point holds (or an earlier late record) by the same revision rule. */
        for (size_t i = 0; i < rc->nlate; i++) {
            ident_t old, nid = rc->late[i].id;
            bool had_old;
            const char *indicator = rc->pool + nid.indicator;
            int u = recompute_upsert(rc, &nid, indicator, true, &old, &had_old);
            if (u < 0) {
                snprintf(why, whysz, "the quarter needs more than --replay-memory-mb=%zu in "
                         "memory", rc->memory_max >> 20);
                goto out;
            }
            rc->late_records++;
            if (u == 0) {
                rc->unchanged++;
                continue;
            }
            rc->applied++;
            if ((had_old && add_ident(rc, &late, &old, -1) != 0) ||
                add_ident(rc, &late, &nid, +1) != 0)
                goto overflow;
        }
        if (cells_to_scopes(rc, &late, &rc->late_deltas) != 0)
            goto overflow;
    }
    rc->valid += rc->late_records;
    result = RECOMPUTE_OK;
    goto out;
overflow:
    snprintf(why, whysz, "a sum of this quarter leaves int64 (or memory is over "
             "--replay-memory-mb=%zu)", rc->memory_max >> 20);
out:
    cells_free(&pre);
    cells_free(&late);
    return result;
}

recompute_rc_t recompute_read(replay_run_t *run, const worker_conf_t *conf, store_t *st,
                              recompute_t **out, char *errstr, size_t errstr_size) {
    recompute_t *rc = calloc(1, sizeof *rc);
    *out = rc;
    if (!rc) {
        snprintf(errstr, errstr_size, "out of memory");
        return RECOMPUTE_FAILED;
    }
    rc->conf = conf;
    rc->memory_max = (size_t)conf->replay_memory_mb << 20;
    rc->nparts = run->nparts;
    rc->parts = calloc((size_t)run->nparts, sizeof *rc->parts);
    if (!rc->parts || admit_topic(&rc->t, conf, run->topic) != 0) {
        snprintf(errstr, errstr_size, rc->parts ? "%s is not a quarter topic" : "out of memory",
                 run->topic);
        return RECOMPUTE_FAILED;
    }
    for (int p = 0; p < rc->nparts; p++)
        rc->parts[p].end = run->ends[p];

    reader_t rd = {.rc = rc, .why = errstr, .whysz = errstr_size};
    if (agg_arena_init(&rd.arena, DECODE_ARENA_SIZE) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return RECOMPUTE_FAILED;
    }
    recompute_rc_t result = RECOMPUTE_FAILED;
    rd_kafka_message_t **msgs = calloc(POLL_BATCH, sizeof *msgs);
    rd_kafka_queue_t *q = NULL;
    /* librdkafka 2.0 stops fetching a partition for up to a second when its prefetch
     * queue is full (confluentinc/librdkafka#2879): a reader slower than the broker then
     * waits more than it works (7.4 s instead of 3.2 s for 1M messages here). A queue
     * of 256 MiB keeps it fetching; it is part of the replay's memory (docs). */
    static const char *const prefetch[] = {
        "queued.max.messages.kbytes", "262144", "queued.min.messages", "2000000",
        /* Offset 0 gone while the replay reads (retention): an error, never a silent
         * jump to the end or to the new first offset. */
        "auto.offset.reset", "error", NULL,
    };
    rd_kafka_t *rk = agg_kafka_reader_new_with(conf->bootstrap, prefetch, &conf->kprops,
                                               errstr, errstr_size);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(rc->nparts);
    if (!rk || !msgs || !l) {
        if (rk)
            snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (int p = 0; p < rc->nparts; p++)
        if (rc->parts[p].end > 0)
            rd_kafka_topic_partition_list_add(l, run->topic, p)->offset = 0;
    rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, l);
    if (aerr) {
        snprintf(errstr, errstr_size, "assign %s: %s", run->topic, rd_kafka_err2str(aerr));
        goto out;
    }
    q = rd_kafka_queue_get_consumer(rk);
    if (!q) {
        snprintf(errstr, errstr_size, "no consumer queue");
        goto out;
    }
    while (!all_read(rc)) {
        if (!replay_go_on(run, st, messages_read(rc), errstr, errstr_size))
            goto out;
        ssize_t n = rd_kafka_consume_batch_queue(q, 200, msgs, POLL_BATCH);
        if (n < 0) {
            snprintf(errstr, errstr_size, "consume %s: %s", run->topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        recompute_rc_t mrc = RECOMPUTE_OK;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (mrc == RECOMPUTE_OK && m->err) {
                if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                    char fatal[256];
                    rd_kafka_fatal_error(rk, fatal, sizeof fatal);
                    snprintf(errstr, errstr_size, "kafka: %s", fatal);
                    mrc = RECOMPUTE_FAILED;
                } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    /* The last offsets before `end` may hold no message (a transaction's
                     * commit marker): the end reported at or past `end` says the
                     * partition is read, as far as this replay goes. */
                    if (m->partition >= 0 && m->partition < rc->nparts &&
                        m->offset >= rc->parts[m->partition].end)
                        rc->parts[m->partition].at_end = true;
                } else if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                           m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                    snprintf(errstr, errstr_size, "%s [%d]: %s (messages deleted by "
                             "retention while the replay read them?)", run->topic,
                             (int)m->partition, rd_kafka_message_errstr(m));
                    mrc = RECOMPUTE_FAILED;
                } else {
                    /* Broker down and the like: librdkafka retries; the read stalls. */
                    unsigned long suppressed = 0;
                    if (agg_log_every("replay_read", 10000, &suppressed))
                        agg_warn("replay_read_error", "topic=%s suppressed=%lu error=\"%s\"",
                                 run->topic, suppressed, rd_kafka_message_errstr(m));
                }
            } else if (mrc == RECOMPUTE_OK && m->partition >= 0 &&
                       m->partition < rc->nparts) {
                recompute_part_t *p = &rc->parts[m->partition];
                /* Past the end: produced during the replay, the live path's (and proof
                 * that every offset before the end was delivered). */
                if (m->offset >= p->end)
                    p->at_end = true;
                else if (m->offset >= p->next)
                    mrc = on_message(&rd, p, m);
            }
            rd_kafka_message_destroy(m);
        }
        if (mrc != RECOMPUTE_OK) {
            result = mrc;
            goto out;
        }
    }
    result = recompute_finish(rc, errstr, errstr_size);
out:
    if (q)
        rd_kafka_queue_destroy(q);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    if (rk) {
        rd_kafka_assign(rk, NULL);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    free(msgs);
    agg_arena_free(&rd.arena);
    return result;
}

void recompute_free(recompute_t *rc) {
    if (!rc)
        return;
    free(rc->parts);
    names_free(&rc->regions);
    names_free(&rc->goals);
    free(rc->ids);
    free(rc->slots);
    free(rc->pool);
    free(rc->late);
    free(rc->times);
    scopes_free(&rc->close_point);
    scopes_free(&rc->late_deltas);
    free(rc);
}
