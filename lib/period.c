/* Quarters: ids, topic names, reporting deadlines, and the calendar arithmetic behind
 * them (no timegm/TZ: results must not depend on the host's time zone settings). */
#include "agg/period.h"

#include <stdio.h>
#include <string.h>

#include "agg/record.h"

/* Asia/Ulaanbaatar has been UTC+8 all year since 2017 (no DST); deadlines before that
 * are not computed by this system. */
#define UB_OFFSET_MS (8LL * 3600 * 1000)

/* Howard Hinnant's days_from_civil: exact for the whole proleptic Gregorian calendar,
 * and linear in day, so an overflowing day rolls into the next month. */
int64_t agg_days_from_civil(int64_t year, int month, int day) {
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int agg_quarter_format(int year, int quarter, char *buf, size_t bufsz) {
    if (year < AGG_YEAR_MIN || year > AGG_YEAR_MAX || quarter < 1 || quarter > 4)
        return -1;
    int n = snprintf(buf, bufsz, "%04d-Q%d", year, quarter);
    if (n < 0 || (size_t)n >= bufsz)
        return -1;
    return 0;
}

int agg_quarter_parse(const char *s, size_t len, int *year, int *quarter) {
    if (len != AGG_QUARTER_ID_LEN)
        return -1;
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        y = y * 10 + (s[i] - '0');
    }
    if (s[4] != '-' || s[5] != 'Q' || s[6] < '1' || s[6] > '4')
        return -1;
    if (y < AGG_YEAR_MIN || y > AGG_YEAR_MAX)
        return -1;
    *year = y;
    *quarter = s[6] - '0';
    return 0;
}

int agg_quarter_from_topic(const char *topic, const char *prefix, int *year, int *quarter) {
    size_t plen = strlen(prefix);
    if (strncmp(topic, prefix, plen) != 0)
        return -1;
    const char *rest = topic + plen;
    return agg_quarter_parse(rest, strlen(rest), year, quarter);
}

int64_t agg_quarter_deadline_ms(int year, int quarter, int deadline_day) {
    if (year < AGG_YEAR_MIN || year > AGG_YEAR_MAX || quarter < 1 || quarter > 4 ||
        deadline_day < 1 || deadline_day > 31)
        return -1;
    int y = year, m = 3 * quarter + 1;
    if (m > 12) {
        m = 1;
        y++;
    }
    /* A deadline day past the end of a short month (31 for April) means its last day. */
    int64_t month_days =
        (m == 12 ? agg_days_from_civil(y + 1, 1, 1) : agg_days_from_civil(y, m + 1, 1)) -
        agg_days_from_civil(y, m, 1);
    int d = deadline_day > month_days ? (int)month_days : deadline_day;
    int64_t days = agg_days_from_civil(y, m, d);
    return days * 86400000LL - UB_OFFSET_MS;
}
