/* The report record: the unit of data from CSV row to Redis aggregate.
 *
 * A record's identity is (region, year, quarter, indicator); only its highest revision
 * counts. Quantities are fixed-point integers in hundredths (x100) so that every sum is
 * exact and independent of arrival order. Field rules follow SPEC section 3. */
#ifndef AGG_RECORD_H
#define AGG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGG_REGION_MAX 32
#define AGG_GOAL_MAX 32
#define AGG_INDICATOR_MAX 64
#define AGG_TITLE_MAX 4096
#define AGG_REPORT_ID_MAX 128
#define AGG_YEAR_MIN 2000
#define AGG_YEAR_MAX 2100
#define AGG_REVISION_MAX 2147483647L
/* |baseline|, |target|, |achieved| <= 10^13 units. Sums are int64 in Redis (HINCRBY):
 * this bound leaves room for ~9,000 maximal values in one scope before overflow. */
#define AGG_AMOUNT_MAX_X100 1000000000000000LL
#define AGG_COMPLETION_MAX_X100 100000 /* 1000 % */
#define AGG_SUBMITTED_FUTURE_MAX_MS 86400000LL /* submitted_at at most a day ahead */

typedef enum {
    AGG_UNIT_COUNT = 0,
    AGG_UNIT_PERSON = 1,
    AGG_UNIT_MNT = 2,
    AGG_UNIT_PCT = 3,
    AGG_UNIT_TEXT = 4,
    AGG_UNIT__COUNT
} agg_unit_t;

/* Strings are inline and NUL-terminated; title and report_id are borrowed from the
 * buffer the record was parsed from (CSV line or decoded message) and are only valid
 * while it lives. */
typedef struct {
    char region[AGG_REGION_MAX + 1];
    char goal[AGG_GOAL_MAX + 1];
    char indicator[AGG_INDICATOR_MAX + 1];
    int year;
    int quarter;
    agg_unit_t unit;
    bool has_baseline, has_target, has_achieved, has_completion;
    int64_t baseline_x100, target_x100, achieved_x100;
    int32_t completion_x100;
    int32_t revision;
    int64_t submitted_ms; /* 0 = unknown */
    const char *title;
    size_t title_len;
    const char *report_id;
    size_t report_id_len;
} agg_record_t;

/* Unit names as written in CSV and in Redis field names ("count", "person", ...). */
const char *agg_unit_name(agg_unit_t unit);
/* Returns 0 and sets *out, or -1 when the name is not a unit. */
int agg_unit_parse(const char *s, size_t len, agg_unit_t *out);
/* Whether target/achieved of this unit are summed (PCT and TEXT are not). */
bool agg_unit_is_summed(agg_unit_t unit);

/* Field parsers shared by the CSV reader and the worker. Each returns 0 on success, or
 * -1 and writes a reason (no field name, no trailing period) into errstr. */
int agg_parse_decimal_x100(const char *s, size_t len, int64_t *out, char *errstr,
                           size_t errstr_size);
int agg_parse_completion_x100(const char *s, size_t len, int32_t *out, char *errstr,
                              size_t errstr_size);
int agg_parse_int_range(const char *s, size_t len, long min, long max, long *out,
                        char *errstr, size_t errstr_size);
/* RFC 3339, e.g. 2024-07-05T10:00:00+08:00 or ...Z, optional fraction: ms since epoch. */
int agg_parse_rfc3339_ms(const char *s, size_t len, int64_t *out, char *errstr,
                         size_t errstr_size);

/* Syntax checks of the code fields (SPEC section 3). 0 = valid, -1 = reason in errstr. */
int agg_check_region(const char *s, size_t len, char *errstr, size_t errstr_size);
int agg_check_goal(const char *s, size_t len, char *errstr, size_t errstr_size);
int agg_check_indicator(const char *s, size_t len, char *errstr, size_t errstr_size);
/* Valid UTF-8 of at most max bytes. */
int agg_check_text(const char *s, size_t len, size_t max, char *errstr, size_t errstr_size);

struct agg_regions; /* regions.h */

/* Validates a whole record, e.g. one decoded by the worker from a district's producer.
 * regions may be NULL (reference list disabled). On failure returns -1, sets *field to
 * the offending field name (static string) and writes the reason into errstr. */
int agg_record_validate(const agg_record_t *r, const struct agg_regions *regions,
                        const char **field, char *errstr, size_t errstr_size);

/* Writes x100 as a decimal with exactly two fraction digits: -1250 -> "-12.50".
 * Returns the length written (excluding NUL) or -1 when buf is too small. */
int agg_format_x100(int64_t v, char *buf, size_t bufsz);

/* completion_avg of SPEC 5: round half away from zero of sum_x100 / assessed, in
 * hundredths of a percent. assessed must be > 0. */
int64_t agg_completion_avg_x100(int64_t completion_sum_x100, int64_t assessed);

#endif
