/* The scope table of one batch: the exact int64 deltas of every scope of SPEC 5 --
 * (quarter), (quarter, goal), (quarter, region), (quarter, region, goal) -- that the
 * batch's records move, and their layout in apply.lua's arguments. Internal to
 * agg-worker. */
#ifndef AGG_WORKER_SCOPES_H
#define AGG_WORKER_SCOPES_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/contrib.h"
#include "agg/regions.h"
#include "args.h"

typedef struct {
    bool used;
    char region[AGG_REGION_MAX + 1]; /* "" = all regions */
    char goal[AGG_GOAL_MAX + 1];     /* "" = all goals */
    int64_t d[AGG_F__N];
} scope_t;

/* Open addressing; cap is a power of two, at most half full. */
typedef struct {
    scope_t *slots;
    size_t cap, n;
} scopes_t;

void scopes_clear(scopes_t *t);
void scopes_free(scopes_t *t);
/* Adds sign x c to the four scopes of (region, c->goal). Returns -1 when a delta would
 * leave int64; the table is then unchanged. */
int scopes_add(scopes_t *t, const char *region, const agg_contrib_t *c, int sign);
/* Adds the delta vector d (agg_contrib_add's fields) to the four scopes of (region,
 * goal). Returns -1 when a field would leave int64; the table is then unchanged. */
int scopes_add_deltas(scopes_t *t, const char *region, const char *goal,
                      const int64_t d[AGG_F__N]);
/* Appends "s, then s times: key, counts key, kind, region, goal, rank key, f, f x
 * (field, delta)" for every scope with a non-zero delta (apply_args.h). */
void scopes_emit(const scopes_t *t, args_t *a, const char *key_prefix, const char *qid);

#endif
