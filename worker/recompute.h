/* The replay's in-memory recomputation of a quarter (recompute.c) and its bulk write to
 * the staging keys (stage.c). Internal to agg-worker.
 *
 * A replay rebuilds a quarter from nothing, so it need not pay the live path's Redis
 * round trip per batch: it reads the topic once, keeps the latest revision of every
 * record identity in memory (the revision rule of contrib.h, the admission rule of
 * admit.c), then writes the record states with plain pipelined HSETs and the scopes,
 * close markers and summaries through apply.lua itself, in a handful of steps. When the
 * quarter is one this path does not reproduce to the bit -- it needs more memory than
 * --replay-memory-mb, an amount comes near int64 (the live path refuses such records
 * by the order they arrive in), or its close markers do not name the topic's
 * partition count -- the recomputation says so and the replay takes the live path
 * (replay.c's staging run) instead. */
#ifndef AGG_WORKER_RECOMPUTE_H
#define AGG_WORKER_RECOMPUTE_H

#include <stdint.h>

#include "agg/contrib.h"
#include "replay.h"
#include "scopes.h"
#include "worker.h"

/* One record identity's latest revision: a compact agg_contrib_t. */
typedef struct {
    uint32_t indicator;  /* offset of the indicator in the string pool */
    uint32_t region;     /* index into the region names */
    uint32_t goal;       /* index into the goal names */
    int32_t revision;
    int32_t completion_x100;
    uint8_t unit;
    bool has_completion, has_target, has_achieved;
    int64_t target_x100, achieved_x100;
} ident_t;

/* A record past its partition's close marker: applied only when the quarter closes
 * (late records, SPEC 8), after every record before the markers. */
typedef struct {
    ident_t id;
} late_t;

/* Interned names (regions, goals): index <-> string. */
typedef struct {
    char (*names)[AGG_GOAL_MAX + 1]; /* AGG_GOAL_MAX == AGG_REGION_MAX */
    uint64_t *slots;                 /* hash << 32 | index + 1; 0 = empty */
    size_t n, cap, slots_cap;
} names_t;

typedef struct {
    bool has, post_has;
    int64_t max_ms, min_ms;           /* before the markers (min 0 = none known) */
    int64_t post_max_ms, post_min_ms; /* after them */
} region_times_t;

typedef struct {
    int64_t end;         /* the replay reads up to here */
    int64_t next;        /* next offset to read */
    bool at_end;         /* librdkafka reported the partition's end at or past `end` */
    bool marked;         /* a close marker was read */
    agg_close_t marker;  /* the first one */
    int64_t marker_offset;
    uint64_t messages_pre;  /* up to and including the marker */
    uint64_t messages_post; /* after it */
    uint64_t rejects_pre, rejects_post, valid_post;
} recompute_part_t;

typedef struct {
    const worker_conf_t *conf; /* the live configuration: the rules' settings */
    admit_topic_t t;
    int nparts;
    recompute_part_t *parts;
    names_t regions, goals;
    ident_t *ids;
    size_t nids, ids_cap;
    uint64_t *slots; /* identity hash table: hash << 32 | index + 1 */
    size_t slots_cap;
    char *pool;      /* indicators, NUL-terminated */
    size_t pool_len, pool_cap;
    late_t *late;
    size_t nlate, late_cap;
    region_times_t *times; /* per region index */
    size_t ntimes, times_cap;
    size_t memory, memory_max; /* bytes held in the tables above, and the bound */
    double abs_amounts;        /* sum of |amount| over every valid record */
    /* The outcome, after recompute_finish(). */
    bool closes;             /* every partition has its marker: the quarter closes */
    uint64_t messages, valid, applied, unchanged, rejects;
    uint64_t late_records;   /* late records applied (amend policy) */
    scopes_t close_point;    /* every scope of the records before the markers */
    scopes_t late_deltas;    /* what the late records move (closes, amend policy) */
} recompute_t;

typedef enum {
    RECOMPUTE_OK = 0,
    RECOMPUTE_FAILED = -1,   /* Kafka, Redis, stopped: the reason in errstr */
    RECOMPUTE_FALLBACK = -2, /* this quarter needs the live path: why in errstr */
} recompute_rc_t;

/* Reads run->topic up to run->ends into *out (the caller frees it with
 * recompute_free, whatever the result). st: the replay's Redis connection, for the
 * lock's renewal while reading. */
recompute_rc_t recompute_read(replay_run_t *run, const worker_conf_t *conf, store_t *st,
                              recompute_t **out, char *errstr, size_t errstr_size);
void recompute_free(recompute_t *rc);
/* An identity's latest revision as the contribution it makes (and its stored state). */
void recompute_contrib(const recompute_t *rc, const ident_t *id, agg_contrib_t *c);

/* stage.c: writes the recomputed quarter under sconf->key_prefix (the staging prefix):
 * record states, then the apply.lua steps (scopes, markers, the close and its
 * summaries, late records, offsets), renewing run's lock as it goes and stopping on a
 * signal. 0, or -1 with errstr. */
int stage_write(recompute_t *rc, store_t *st, const worker_conf_t *sconf, replay_run_t *run,
                char *errstr, size_t errstr_size);

#endif
