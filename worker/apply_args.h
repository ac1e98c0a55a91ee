/* The protocol between the worker and apply.lua, named once: the positions of the fixed
 * arguments (0-based here; Lua's ARGV[i + 1]) and the replies. apply.lua's header
 * describes the same layout; test_batch checks the builder against these names.
 *
 * After the fixed arguments (APPLY_ARG__FIXED of them):
 *   n = record-state keys, then n times: key, expected version ("" = none), m, then m
 *       times: field (indicator), new state
 *   s = scopes, then s times: key, counts key, kind (T|G|R|RG), region, goal, rank key,
 *       f, then f times: field, delta
 *   r = regions, then r times: region, max submitted ms, min submitted ms ("" = none)
 *
 * Replies:
 *   {"OK", status}     applied; status is the quarter's after the step: "open",
 *                      "closed", or "closed-now" when this step's marker closed it
 *                      (its summaries are in the outbox)
 *   {"FENCED", stored} the batch does not start at the stored offset: nothing written
 *   {"CONFLICT", key}  a record state changed since it was read: nothing written
 *   {"HOLD"}           records on a partition past its close marker while the quarter
 *                      is still open: nothing written; the partition waits
 *   {"OVERFLOW", key, field}  the batch would take an amount of a scope beyond int64:
 *                      nothing written; the worker sends the records that feed that
 *                      field to the DLQ and applies the batch without them
 *   {"REPLAY"}         a replay of the quarter runs: nothing written; the partition
 *                      waits until it has swapped its result in (then its stored
 *                      offset has moved, and the worker seeks there) */
#ifndef AGG_WORKER_APPLY_ARGS_H
#define AGG_WORKER_APPLY_ARGS_H

#include "args.h"
#include "worker.h"

enum {
    APPLY_ARG_OFFSETS_KEY,
    APPLY_ARG_PARTITION,
    APPLY_ARG_EXPECTED,     /* start offset the batch follows ("" = none stored) */
    APPLY_ARG_NEXT_OFFSET,
    APPLY_ARG_NOW_MS,
    APPLY_ARG_STATE_KEY,
    APPLY_ARG_QUARTERS_KEY,
    APPLY_ARG_QUARTER,      /* "2024-Q2" */
    APPLY_ARG_QUARTER_SCORE,
    APPLY_ARG_REGIONS_KEY,
    APPLY_ARG_GOALS_KEY,
    APPLY_ARG_MARKER_MS,    /* "" = no close marker; else its requested_ms */
    APPLY_ARG_MARKER_PARTITIONS,
    APPLY_ARG_MARKER_DEADLINE_MS,
    APPLY_ARG_MARKER_BY,
    APPLY_ARG_CLOSED_KEY,   /* set of partitions past their marker */
    APPLY_ARG_FIRST_KEY,    /* agg:Q:regions:first */
    APPLY_ARG_SCOPE_BASE,   /* "agg:Q:" */
    APPLY_ARG_OUTBOX_KEY,
    APPLY_ARG_TOPIC,
    APPLY_ARG_EXPECTED_REGIONS, /* comma-separated reference list */
    APPLY_ARG_LATE_RECORDS, /* valid records in this batch (counted when late) */
    APPLY_ARG_REPLAY_KEY,   /* exists while a replay of the quarter runs */
    APPLY_ARG__FIXED
};

/* One step of apply.lua: what its fixed arguments say. */
typedef struct {
    const char *topic, *qid;
    int year, quarter;
    int32_t partition;
    int64_t expected;     /* the stored offset the step follows; -1 = none stored */
    int64_t next_offset;
    int64_t now_ms;
    const agg_close_t *marker; /* the close marker that ends the step, or NULL */
    int64_t nvalid;       /* valid records in the step */
} apply_step_t;

/* Appends the APPLY_ARG__FIXED arguments of a step (apply_args.c): the one layout of
 * them, for the live batches (batch.c) and the replay's staged steps (stage.c). Returns
 * -1 with errstr when a key would be too long. */
int apply_fixed_args(args_t *a, const worker_conf_t *conf, const apply_step_t *s,
                     char *errstr, size_t errstr_size);

#define APPLY_REPLY_OK "OK"
#define APPLY_REPLY_FENCED "FENCED"
#define APPLY_REPLY_CONFLICT "CONFLICT"
#define APPLY_REPLY_HOLD "HOLD"
#define APPLY_REPLY_REPLAY "REPLAY"
#define APPLY_REPLY_OVERFLOW "OVERFLOW"
#define APPLY_STATUS_OPEN "open"
#define APPLY_STATUS_CLOSED "closed"
#define APPLY_STATUS_CLOSED_NOW "closed-now"

#endif
