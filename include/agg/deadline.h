/* Reporting deadlines of quarters (SPEC 8): a rule -- 00:00 Asia/Ulaanbaatar on day N
 * of the month after the quarter ends, N = 10 by default -- and explicit times per
 * quarter that override it. The producer writes the deadline into the close markers,
 * so a replay judges timeliness exactly as the live run did; the worker uses the same
 * configuration for markers written before v2 and for the deadline close. */
#ifndef AGG_DEADLINE_H
#define AGG_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#define AGG_DEADLINE_EXPLICIT_MAX 64

typedef struct {
    int day; /* 1..31 */
    size_t n;
    struct {
        int year, quarter;
        int64_t ms;
    } explicit_[AGG_DEADLINE_EXPLICIT_MAX];
} agg_deadlines_t;

/* Parses the explicit list "2024-Q2=2024-07-15T00:00:00+08:00,2024-Q3=…" (NULL or ""
 * = none) with the rule's day. Returns 0, or -1 with the item and reason in errstr. */
int agg_deadlines_init(agg_deadlines_t *d, int day, const char *explicit_list,
                       char *errstr, size_t errstr_size);
/* The quarter's deadline in ms since the epoch (-1 for a quarter out of range). */
int64_t agg_deadline_ms(const agg_deadlines_t *d, int year, int quarter);

#endif
