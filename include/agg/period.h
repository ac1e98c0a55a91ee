/* Quarters: ids ("2024-Q2"), topic names, and reporting deadlines. */
#ifndef AGG_PERIOD_H
#define AGG_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#define AGG_QUARTER_ID_LEN 7 /* "2024-Q2" */

/* Writes "YYYY-Qn"; returns 0, or -1 when buf is too small or the values are out of
 * range. */
int agg_quarter_format(int year, int quarter, char *buf, size_t bufsz);
/* Parses exactly "YYYY-Qn" (year 2000..2100, n 1..4). Returns 0 or -1. */
int agg_quarter_parse(const char *s, size_t len, int *year, int *quarter);
/* Parses a topic "<prefix>YYYY-Qn": 0 and the quarter, or -1 when it is not one. */
int agg_quarter_from_topic(const char *topic, const char *prefix, int *year, int *quarter);
/* Close deadline (SPEC 8): 00:00 Asia/Ulaanbaatar (UTC+8) on day deadline_day (10 by
 * default) of the month after the quarter ends, i.e. the start of that day. ms since
 * epoch, or -1 when year, quarter or deadline_day (1..31) is out of range. A day past
 * the end of the month (31 in April) means its last day. */
int64_t agg_quarter_deadline_ms(int year, int quarter, int deadline_day);

/* Days from 1970-01-01 to the given proleptic Gregorian date. day may run past the end
 * of the month (day 32 of January is February 1st); month must be 1..12. */
int64_t agg_days_from_civil(int64_t year, int month, int day);

#endif
