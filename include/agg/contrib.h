/* A record's contribution to the aggregates of SPEC 5: the one C implementation of the
 * rule (worker, load generator and naive sink all use it; tests/reference.py is the
 * only independent one) and of the stored-state format that lets a later revision take
 * the contribution back out. */
#ifndef AGG_CONTRIB_H
#define AGG_CONTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg/record.h"

/* The fields a contribution moves, in the order a scope writes them. The six counts
 * come first (a new scope gets all six, "0" included); then the six amounts (target of
 * count/person/mnt, achieved of count/person/mnt), then how many records carry each
 * amount ('#'-prefixed: an amount disappears when no record carries it any more). */
typedef enum {
    AGG_F_INDICATORS,
    AGG_F_ASSESSED,
    AGG_F_COMPLETION_SUM,
    AGG_F_MET,
    AGG_F_PARTIAL,
    AGG_F_UNMET,
    AGG_F_AMOUNT,
    AGG_F_AMOUNT_COUNT = AGG_F_AMOUNT + 6,
    AGG_F__N = AGG_F_AMOUNT_COUNT + 6
} agg_field_t;
#define AGG_SUMMED_UNITS 3 /* count, person, mnt: unit values 0..2 */

extern const char *const agg_field_names[AGG_F__N];

typedef struct {
    int32_t revision;
    agg_unit_t unit;
    bool has_completion, has_target, has_achieved;
    int32_t completion_x100;
    int64_t target_x100, achieved_x100;
    char goal[AGG_GOAL_MAX + 1];
} agg_contrib_t;

void agg_contrib_of(const agg_record_t *r, agg_contrib_t *c);

/* The revision rule (SPEC 4): a record replaces the stored one of its identity only
 * with a higher revision; an equal one never displaces the first. */
static inline bool agg_contrib_replaces(const agg_contrib_t *stored, int32_t revision) {
    return revision > stored->revision;
}

/* d[f] += sign * (what c contributes to field f), sign = +1 or -1. Checked: returns -1
 * and leaves d unchanged when a field would leave int64. */
int agg_contrib_add(int64_t d[AGG_F__N], const agg_contrib_t *c, int sign);

/* Stored state "<revision>|<unit>|<completion>|<target>|<achieved>|<goal>" (empty =
 * absent). agg_contrib_format writes at most AGG_CONTRIB_STATE_MAX bytes, no NUL, and
 * returns the length; agg_contrib_parse returns 0, or -1 for anything malformed. */
#define AGG_CONTRIB_STATE_MAX (5 * 21 + 5 + AGG_GOAL_MAX + 1)
size_t agg_contrib_format(const agg_contrib_t *c, char *buf);
int agg_contrib_parse(const char *s, size_t len, agg_contrib_t *c);

/* Decimal text of v into buf (>= 21 bytes, no NUL); returns the length. snprintf was a
 * tenth of the worker's CPU: this runs a few times per record. */
size_t agg_fmt_i64(char *buf, int64_t v);

#endif
