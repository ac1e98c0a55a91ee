/* Quarter ids, topic names and deadlines. Expected instants were computed with
 * `date -d <time> +%s`. */
#include <string.h>

#include "agg/period.h"
#include "test.h"

static void format_quarter(void) {
    char buf[16];
    CHECK(agg_quarter_format(2024, 2, buf, sizeof buf) == 0);
    CHECK_STR(buf, "2024-Q2");
    CHECK(agg_quarter_format(2000, 1, buf, sizeof buf) == 0);
    CHECK_STR(buf, "2000-Q1");
    char exact[AGG_QUARTER_ID_LEN + 1];
    CHECK(agg_quarter_format(2100, 4, exact, sizeof exact) == 0);
    CHECK_STR(exact, "2100-Q4");
    CHECK(agg_quarter_format(2024, 2, buf, AGG_QUARTER_ID_LEN) == -1);
    CHECK(agg_quarter_format(1999, 2, buf, sizeof buf) == -1);
    CHECK(agg_quarter_format(2101, 2, buf, sizeof buf) == -1);
    CHECK(agg_quarter_format(2024, 0, buf, sizeof buf) == -1);
    CHECK(agg_quarter_format(2024, 5, buf, sizeof buf) == -1);
}

static int parse(const char *s, int *y, int *q) {
    return agg_quarter_parse(s, strlen(s), y, q);
}

static void parse_quarter(void) {
    int y = 0, q = 0;
    CHECK(parse("2024-Q2", &y, &q) == 0);
    CHECK_I64(y, 2024);
    CHECK_I64(q, 2);
    CHECK(parse("2100-Q4", &y, &q) == 0);
    static const char *const bad[] = {"2024-Q0",  "2024-Q5", "2024-q2", "2024Q2",  "24-Q2",
                                      "2024-Q2 ", "1999-Q1", "2101-Q1", "2024-Q",  "",
                                      "2024-Q22", "20x4-Q1", "2024_Q1", " 2024-Q1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(parse(bad[i], &y, &q) == -1);
    /* len bounds the read: the bytes after it do not matter */
    CHECK(agg_quarter_parse("2023-Q3xyz", 7, &y, &q) == 0);
    CHECK_I64(y, 2023);
    CHECK_I64(q, 3);
}

static void quarter_from_topic(void) {
    int y = 0, q = 0;
    CHECK(agg_quarter_from_topic("reports.2024-Q2", "reports.", &y, &q) == 0);
    CHECK_I64(y, 2024);
    CHECK_I64(q, 2);
    CHECK(agg_quarter_from_topic("test-a.reports.2025-Q1", "test-a.reports.", &y, &q) == 0);
    CHECK_I64(y, 2025);
    CHECK(agg_quarter_from_topic("2024-Q3", "", &y, &q) == 0);
    CHECK(agg_quarter_from_topic("reports.2024-Q2x", "reports.", &y, &q) == -1);
    CHECK(agg_quarter_from_topic("reports.summaries", "reports.", &y, &q) == -1);
    CHECK(agg_quarter_from_topic("reports.dlq", "reports.", &y, &q) == -1);
    CHECK(agg_quarter_from_topic("other.2024-Q2", "reports.", &y, &q) == -1);
    CHECK(agg_quarter_from_topic("reports.", "reports.", &y, &q) == -1);
    CHECK(agg_quarter_from_topic("rep", "reports.", &y, &q) == -1);
}

static void days_from_civil(void) {
    CHECK_I64(agg_days_from_civil(1970, 1, 1), 0);
    CHECK_I64(agg_days_from_civil(1969, 12, 31), -1);
    CHECK_I64(agg_days_from_civil(2000, 3, 1), 11017);
    CHECK_I64(agg_days_from_civil(2024, 2, 29), 19782);
    /* an overflowing day rolls over */
    CHECK_I64(agg_days_from_civil(2024, 1, 32), agg_days_from_civil(2024, 2, 1));
    CHECK_I64(agg_days_from_civil(2023, 2, 29), agg_days_from_civil(2023, 3, 1));
}

static void deadlines(void) {
    /* 2024-Q2, day 10 (SPEC 8: 00:00 on the 10th): 2024-07-10T00:00:00+08:00 */
    CHECK_I64(agg_quarter_deadline_ms(2024, 2, 10), 1720540800000LL);
    /* 2024-Q1: 2024-04-10T00:00:00+08:00 */
    CHECK_I64(agg_quarter_deadline_ms(2024, 1, 10), 1712678400000LL);
    /* 2024-Q3: 2024-10-10T00:00:00+08:00 */
    CHECK_I64(agg_quarter_deadline_ms(2024, 3, 10), 1728489600000LL);
    /* 2024-Q4 closes in January of the next year: 2025-01-10T00:00:00+08:00 */
    CHECK_I64(agg_quarter_deadline_ms(2024, 4, 10), 1736438400000LL);
    /* day 31 of April is its last day: 2024-04-30T00:00:00+08:00 */
    CHECK_I64(agg_quarter_deadline_ms(2024, 1, 31), 1714406400000LL);
    CHECK_I64(agg_quarter_deadline_ms(2024, 1, 30), 1714406400000LL);
    /* one day is 86400000 ms */
    CHECK_I64(agg_quarter_deadline_ms(2024, 2, 11) - agg_quarter_deadline_ms(2024, 2, 10),
              86400000LL);
    CHECK_I64(agg_quarter_deadline_ms(2024, 2, 0), -1);
    CHECK_I64(agg_quarter_deadline_ms(2024, 2, 32), -1);
    CHECK_I64(agg_quarter_deadline_ms(2024, 5, 10), -1);
    CHECK_I64(agg_quarter_deadline_ms(1999, 4, 10), -1);
}

TEST_MAIN(TEST(format_quarter), TEST(parse_quarter), TEST(quarter_from_topic),
          TEST(days_from_civil), TEST(deadlines))
