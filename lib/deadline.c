/* deadline.c: reporting deadlines, a rule with explicit overrides (deadline.h). */
#include "agg/deadline.h"

#include <stdio.h>
#include <string.h>

#include "agg/period.h"
#include "agg/record.h"

int agg_deadlines_init(agg_deadlines_t *d, int day, const char *list, char *errstr,
                       size_t errstr_size) {
    memset(d, 0, sizeof *d);
    if (day < 1 || day > 31) {
        snprintf(errstr, errstr_size, "deadline day %d is not 1..31", day);
        return -1;
    }
    d->day = day;
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int year, quarter;
        int64_t ms;
        char why[128];
        if (!eq || agg_quarter_parse(p, (size_t)(eq - p), &year, &quarter) != 0) {
            snprintf(errstr, errstr_size,
                     "deadline \"%.*s\": expected QUARTER=TIME, e.g. 2024-Q2=2024-07-15T00:00:00+08:00",
                     (int)(len > 80 ? 80 : len), p);
            return -1;
        }
        if (agg_parse_rfc3339_ms(eq + 1, len - (size_t)(eq + 1 - p), &ms, why, sizeof why) != 0) {
            snprintf(errstr, errstr_size, "deadline of %.*s: %s", (int)(eq - p), p, why);
            return -1;
        }
        /* A close marker carries deadline_ms > 0 only: 0 reads as "none" (the rule
         * applies) and the worker dead-letters a negative one (found by fuzz_deadline). */
        if (ms <= 0) {
            snprintf(errstr, errstr_size, "deadline of %.*s: must be after 1970-01-01T00:00:00Z",
                     (int)(eq - p), p);
            return -1;
        }
        if (d->n == AGG_DEADLINE_EXPLICIT_MAX) {
            snprintf(errstr, errstr_size, "more than %d explicit deadlines",
                     AGG_DEADLINE_EXPLICIT_MAX);
            return -1;
        }
        d->explicit_[d->n].year = year;
        d->explicit_[d->n].quarter = quarter;
        d->explicit_[d->n].ms = ms;
        d->n++;
        p = comma ? comma + 1 : p + len;
    }
    return 0;
}

int64_t agg_deadline_ms(const agg_deadlines_t *d, int year, int quarter) {
    /* The last one given wins, as with repeated flags. */
    for (size_t i = d->n; i-- > 0;)
        if (d->explicit_[i].year == year && d->explicit_[i].quarter == quarter)
            return d->explicit_[i].ms;
    return agg_quarter_deadline_ms(year, quarter, d->day);
}
