/* Field parsers, code/text checks, record validation and fixed-point formatting. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg/record.h"
#include "agg/regions.h"
#include "test.h"
#include "agg/log.h"

static char err[256];

static int dec(const char *s, int64_t *v) {
    err[0] = '\0';
    return agg_parse_decimal_x100(s, strlen(s), v, err, sizeof err);
}

static void decimal_accepts_spec_syntax(void) {
    int64_t v = 0;
    CHECK(dec("0", &v) == 0);
    CHECK_I64(v, 0);
    CHECK(dec("75.8", &v) == 0);
    CHECK_I64(v, 7580);
    CHECK(dec("75.08", &v) == 0);
    CHECK_I64(v, 7508);
    CHECK(dec("-12.5", &v) == 0);
    CHECK_I64(v, -1250);
    CHECK(dec("-0.01", &v) == 0);
    CHECK_I64(v, -1);
    CHECK(dec("-0", &v) == 0);
    CHECK_I64(v, 0);
    CHECK(dec("007", &v) == 0);
    CHECK_I64(v, 700);
    CHECK(dec("1234567", &v) == 0);
    CHECK_I64(v, 123456700);
    /* the bounds themselves: |value| <= 10^13 */
    CHECK(dec("10000000000000", &v) == 0);
    CHECK_I64(v, AGG_AMOUNT_MAX_X100);
    CHECK(dec("-10000000000000.00", &v) == 0);
    CHECK_I64(v, -AGG_AMOUNT_MAX_X100);
}

static void decimal_rejects_other_syntax(void) {
    static const char *const bad[] = {"",    "75,8", "1,000", "+1",   " 1", "1 ",   "1e3",
                                      "1.",  ".5",   "1.234", "--1",  "-",  "0x10", "1.2.3",
                                      "NaN", "inf",  "１",    "1.-2", "-.5"};
    int64_t v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (dec(bad[i], &v) != -1)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK(dec(bad[i], &v) == -1);
    }
    dec("75,8", &v);
    CHECK_STR(
        err, "not a decimal with at most 2 fraction digits and '.' as separator: \"75,8\"");
}

static void decimal_range(void) {
    int64_t v;
    CHECK(dec("10000000000000.01", &v) == -1);
    CHECK_STR(err, "out of range (|value| <= 10000000000000)");
    CHECK(dec("-10000000000000.01", &v) == -1);
    CHECK(dec("99999999999999999999999999999999", &v) == -1);
    CHECK_STR(err, "out of range (|value| <= 10000000000000)");
}

static void decimal_error_quotes_are_bounded_and_escaped(void) {
    int64_t v;
    const char nl[] = "1\n2\"\\";
    CHECK(agg_parse_decimal_x100(nl, strlen(nl), &v, err, sizeof err) == -1);
    CHECK_STR(err, "not a decimal with at most 2 fraction digits and '.' as separator: "
                   "\"1\\x0a2\\\"\\\\\"");
    char longs[100];
    memset(longs, 'x', sizeof longs);
    CHECK(agg_parse_decimal_x100(longs, sizeof longs, &v, err, sizeof err) == -1);
    CHECK(strstr(err, "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"...") != NULL);
    /* invalid UTF-8 is escaped, valid multibyte text is kept */
    const char u[] = "\xd0\x90\xff";
    CHECK(agg_parse_decimal_x100(u, strlen(u), &v, err, sizeof err) == -1);
    CHECK(strstr(err, "\"\xd0\x90\\xff\"") != NULL);
    /* a tiny errstr is still NUL-terminated */
    char small[8];
    CHECK(agg_parse_decimal_x100("abc", 3, &v, small, sizeof small) == -1);
    CHECK(strlen(small) == 7);
}

static void completion(void) {
    int32_t c = -1;
    CHECK(agg_parse_completion_x100("87.5", 4, &c, err, sizeof err) == 0);
    CHECK_I64(c, 8750);
    CHECK(agg_parse_completion_x100("0", 1, &c, err, sizeof err) == 0);
    CHECK_I64(c, 0);
    CHECK(agg_parse_completion_x100("1000", 4, &c, err, sizeof err) == 0);
    CHECK_I64(c, 100000);
    CHECK(agg_parse_completion_x100("1000.01", 7, &c, err, sizeof err) == -1);
    CHECK_STR(err, "out of range (0 to 1000)");
    CHECK(agg_parse_completion_x100("-1", 2, &c, err, sizeof err) == -1);
    CHECK_STR(err, "out of range (0 to 1000)");
    CHECK(agg_parse_completion_x100("-0", 2, &c, err, sizeof err) == 0);
    CHECK_I64(c, 0);
    CHECK(agg_parse_completion_x100("87%", 3, &c, err, sizeof err) == -1);
}

static void int_range(void) {
    long v = 0;
    CHECK(agg_parse_int_range("42", 2, 1, 100, &v, err, sizeof err) == 0);
    CHECK_I64(v, 42);
    CHECK(agg_parse_int_range("-5", 2, -10, 10, &v, err, sizeof err) == 0);
    CHECK_I64(v, -5);
    CHECK(agg_parse_int_range("0", 1, 1, 100, &v, err, sizeof err) == -1);
    CHECK_STR(err, "must be between 1 and 100");
    CHECK(agg_parse_int_range("2147483648", 10, 1, 2147483647L, &v, err, sizeof err) == -1);
    CHECK_STR(err, "must be between 1 and 2147483647");
    CHECK(agg_parse_int_range("99999999999999999999999", 23, 1, 5, &v, err, sizeof err) ==
          -1);
    CHECK_STR(err, "must be between 1 and 5");
    CHECK(agg_parse_int_range("-9223372036854775808", 20, LONG_MIN, 0, &v, err,
                              sizeof err) == 0);
    CHECK(v == LONG_MIN);
    static const char *const bad[] = {"", "-", "+1", " 1", "1 ", "1.0", "0x1", "1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(agg_parse_int_range(bad[i], strlen(bad[i]), -100, 100, &v, err, sizeof err) ==
              -1);
    agg_parse_int_range("abc", 3, 1, 2, &v, err, sizeof err);
    CHECK_STR(err, "not an integer: \"abc\"");
}

static int64_t ts(const char *s) {
    int64_t v = -12345;
    if (agg_parse_rfc3339_ms(s, strlen(s), &v, err, sizeof err) != 0)
        return -12345;
    return v;
}

static void rfc3339_values(void) {
    CHECK_I64(ts("1970-01-01T00:00:00Z"), 0);
    /* date -d 2024-07-05T10:00:00+08:00 +%s -> 1720144800 */
    CHECK_I64(ts("2024-07-05T10:00:00+08:00"), 1720144800000LL);
    CHECK_I64(ts("2024-07-05T02:00:00Z"), 1720144800000LL);
    CHECK_I64(ts("2024-07-05t02:00:00z"), 1720144800000LL);
    CHECK_I64(ts("2024-07-05 02:00:00Z"), 1720144800000LL);
    CHECK_I64(ts("2024-07-04T21:30:00-04:30"), 1720144800000LL);
    CHECK_I64(ts("2024-07-05T02:00:00.5Z"), 1720144800500LL);
    CHECK_I64(ts("2024-07-05T02:00:00.123999Z"), 1720144800123LL);
    /* leap day, and the end of a leap year: date -d 2024-02-29T23:59:59Z +%s */
    CHECK_I64(ts("2024-02-29T23:59:59Z"), 1709251199000LL);
    CHECK_I64(ts("2000-02-29T00:00:00Z"), 951782400000LL);
    /* a leap second reads as :59 of the same minute */
    CHECK_I64(ts("2016-12-31T23:59:60Z"), 1483228799000LL);
    CHECK_I64(ts("1969-12-31T23:59:59Z"), -1000);
}

static void rfc3339_rejects(void) {
    static const char *const bad[] = {"2024-07-05",
                                      "2024-07-05T10:00:00",
                                      "2024-07-05T10:00Z",
                                      "2024-7-5T10:00:00Z",
                                      "2024-07-05T10:00:00+0800",
                                      "2024-07-05T10:00:00+08",
                                      "2024-13-01T00:00:00Z",
                                      "2024-00-01T00:00:00Z",
                                      "2023-02-29T00:00:00Z",
                                      "1900-02-29T00:00:00Z",
                                      "2024-04-31T00:00:00Z",
                                      "2024-07-05T24:00:00Z",
                                      "2024-07-05T10:60:00Z",
                                      "2024-07-05T10:00:61Z",
                                      "2024-07-05T10:00:00.Z",
                                      "2024-07-05T10:00:00Zx",
                                      "2024-07-05T10:00:00+24:00",
                                      "2024-07-05X10:00:00Z",
                                      " 2024-07-05T10:00:00Z",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (ts(bad[i]) != -12345)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK(ts(bad[i]) == -12345);
    }
    ts("2023-02-29T00:00:00Z");
    CHECK_STR(err, "invalid date: \"2023-02-29T00:00:00Z\"");
}

static void codes(void) {
    CHECK(agg_check_region("ub-khan-uul", 11, err, sizeof err) == 0);
    CHECK(agg_check_region("a", 1, err, sizeof err) == 0);
    CHECK(agg_check_region("", 0, err, sizeof err) == -1);
    CHECK(agg_check_region("Ub", 2, err, sizeof err) == -1);
    CHECK_STR(err, "must match [a-z0-9-]{1,32}: \"Ub\"");
    CHECK(agg_check_region("ub_x", 4, err, sizeof err) == -1);
    CHECK(agg_check_region("abcdefghijabcdefghijabcdefghij12", 32, err, sizeof err) == 0);
    CHECK(agg_check_region("abcdefghijabcdefghijabcdefghij123", 33, err, sizeof err) == -1);
    CHECK(agg_check_region("a\0b", 3, err, sizeof err) == -1);

    CHECK(agg_check_goal("6.1", 3, err, sizeof err) == 0);
    CHECK(agg_check_goal("A_b-3.x", 7, err, sizeof err) == 0);
    CHECK(agg_check_goal("6/1", 3, err, sizeof err) == -1);
    CHECK(agg_check_goal("", 0, err, sizeof err) == -1);
    CHECK(agg_check_goal("6 1", 3, err, sizeof err) == -1);

    CHECK(agg_check_indicator("6.1.1#2", 7, err, sizeof err) == 0);
    CHECK(agg_check_indicator("3.2/1", 5, err, sizeof err) == 0);
    CHECK(agg_check_indicator("3.2,1", 5, err, sizeof err) == -1);
    CHECK_STR(err, "must match [0-9A-Za-z._/#-]{1,64}: \"3.2,1\"");
    char ind[65];
    memset(ind, '1', sizeof ind);
    CHECK(agg_check_indicator(ind, 64, err, sizeof err) == 0);
    CHECK(agg_check_indicator(ind, 65, err, sizeof err) == -1);
}

static int text(const char *s, size_t max) {
    return agg_check_text(s, strlen(s), max, err, sizeof err);
}

static void utf8_text(void) {
    CHECK(text("", 10) == 0);
    CHECK(text("Хүн амын эрүүл мэнд", 100) == 0);
    CHECK(text("\xf0\x9f\x98\x80", 4) == 0);   /* U+1F600 */
    CHECK(text("\xf4\x8f\xbf\xbf", 4) == 0);   /* U+10FFFF */
    CHECK(text("\xef\xbf\xbd", 4) == 0);       /* U+FFFD */
    CHECK(text("\xc0\xaf", 10) == -1);         /* overlong '/' */
    CHECK(text("\xe0\x80\xaf", 10) == -1);     /* overlong */
    CHECK(text("\xf0\x80\x80\xaf", 10) == -1); /* overlong */
    CHECK(text("\xed\xa0\x80", 10) == -1);     /* surrogate U+D800 */
    CHECK(text("\xf4\x90\x80\x80", 10) == -1); /* U+110000 */
    CHECK(text("\xf5\x80\x80\x80", 10) == -1);
    CHECK(text("ab\x80", 10) == -1); /* lone continuation */
    CHECK_STR(err, "invalid UTF-8 at byte 3");
    CHECK(text("\xd0", 10) == -1); /* truncated */
    CHECK(text("abcd", 3) == -1);
    CHECK_STR(err, "longer than 3 bytes (4)");
    CHECK(text("abc", 3) == 0);
    CHECK(agg_check_text("a\0b", 3, 10, err, sizeof err) == -1);
}

/* Every byte value at every position of a 24-byte text (three words of the fast path,
 * in and out of alignment): refused exactly when the byte is a control character, DEL
 * or not UTF-8 alone, and the error names that byte. */
static void text_every_byte_everywhere(void) {
    char buf[25], want[64];
    for (int pos = 0; pos < 24; pos++) {
        for (int b = 1; b < 256; b++) {
            memset(buf, 'a', 24);
            buf[24] = '\0';
            buf[pos] = (char)b;
            bool ok = (b >= 0x20 && b < 0x7f) || b == '\t';
            int rc = agg_check_text(buf + 1, 23, 100, err, sizeof err);
            if (pos == 0) {
                CHECK(rc == 0);
                continue;
            }
            CHECK(rc == (ok ? 0 : -1));
            if (ok)
                continue;
            if (b >= 0x80)
                snprintf(want, sizeof want, "invalid UTF-8 at byte %d", pos);
            else
                snprintf(want, sizeof want, "control character 0x%02x at byte %d", b, pos);
            CHECK_STR(err, want);
        }
    }
    CHECK(text("0123456789abcdef\x7f", 100) == -1);
    CHECK_STR(err, "control character 0x7f at byte 17");
    CHECK(text("0123456789abcdefХүн", 100) == 0);
}

static void units(void) {
    agg_unit_t u;
    static const char *const names[] = {"count", "person", "mnt", "pct", "text"};
    for (int i = 0; i < AGG_UNIT__COUNT; i++) {
        CHECK_STR(agg_unit_name((agg_unit_t)i), names[i]);
        CHECK(agg_unit_parse(names[i], strlen(names[i]), &u) == 0);
        CHECK(u == (agg_unit_t)i);
    }
    CHECK(agg_unit_parse("Count", 5, &u) == -1);
    CHECK(agg_unit_parse("", 0, &u) == -1);
    CHECK(agg_unit_parse("counts", 6, &u) == -1);
    CHECK(agg_unit_parse("count", 3, &u) == -1);
    CHECK(agg_unit_is_summed(AGG_UNIT_COUNT));
    CHECK(agg_unit_is_summed(AGG_UNIT_PERSON));
    CHECK(agg_unit_is_summed(AGG_UNIT_MNT));
    CHECK(!agg_unit_is_summed(AGG_UNIT_PCT));
    CHECK(!agg_unit_is_summed(AGG_UNIT_TEXT));
}

static agg_record_t good_record(void) {
    agg_record_t r;
    memset(&r, 0, sizeof r);
    strcpy(r.region, "ub-khan-uul");
    strcpy(r.goal, "6.1");
    strcpy(r.indicator, "6.1.1#2");
    r.year = 2024;
    r.quarter = 2;
    r.unit = AGG_UNIT_PERSON;
    r.has_target = r.has_achieved = r.has_completion = true;
    r.target_x100 = 100000;
    r.achieved_x100 = 87500;
    r.completion_x100 = 8750;
    r.revision = 1;
    r.submitted_ms = 1720144800000LL;
    r.title = "Даатгуулагчийн тоо";
    r.title_len = strlen(r.title);
    r.report_id = "UB-KU-2024-Q2";
    r.report_id_len = strlen(r.report_id);
    return r;
}

static const char *invalid_field(agg_record_t r, const agg_regions_t *regions) {
    const char *field = "?";
    if (agg_record_validate(&r, regions, &field, err, sizeof err) == 0)
        return "(valid)";
    return field;
}

static void record_validation(void) {
    agg_regions_t regions;
    CHECK(agg_regions_load_text(&regions, "code\nub-khan-uul\narkhangai\n", "t", err,
                                sizeof err) == 0);
    agg_record_t r = good_record();
    CHECK_STR(invalid_field(r, &regions), "(valid)");
    CHECK_STR(invalid_field(r, NULL), "(valid)");

    r = good_record();
    strcpy(r.region, "xyz");
    CHECK_STR(invalid_field(r, &regions), "region");
    CHECK_STR(err, "unknown region \"xyz\" (not in the reference list)");
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    strcpy(r.region, "XYZ");
    CHECK_STR(invalid_field(r, NULL), "region");
    memset(r.region, 'a', sizeof r.region); /* unterminated: too long, no overread */
    CHECK_STR(invalid_field(r, NULL), "region");

    r = good_record();
    r.year = 1999;
    CHECK_STR(invalid_field(r, NULL), "year");
    CHECK_STR(err, "must be between 2000 and 2100");
    r.year = 2101;
    CHECK_STR(invalid_field(r, NULL), "year");
    r = good_record();
    r.quarter = 0;
    CHECK_STR(invalid_field(r, NULL), "quarter");
    r.quarter = 5;
    CHECK_STR(invalid_field(r, NULL), "quarter");
    r = good_record();
    strcpy(r.goal, "6 1");
    CHECK_STR(invalid_field(r, NULL), "goal");
    r = good_record();
    r.indicator[0] = '\0';
    CHECK_STR(invalid_field(r, NULL), "indicator");
    r = good_record();
    r.unit = AGG_UNIT__COUNT;
    CHECK_STR(invalid_field(r, NULL), "unit");
    r = good_record();
    r.title = "\xff";
    r.title_len = 1;
    CHECK_STR(invalid_field(r, NULL), "title");
    r = good_record();
    r.report_id_len = AGG_REPORT_ID_MAX + 1;
    {
        char id[AGG_REPORT_ID_MAX + 1];
        memset(id, 'a', sizeof id);
        r.report_id = id;
        CHECK_STR(invalid_field(r, NULL), "report_id");
        r.report_id_len = AGG_REPORT_ID_MAX;
        CHECK_STR(invalid_field(r, NULL), "(valid)");
    }
    r = good_record();
    r.has_baseline = true;
    r.baseline_x100 = AGG_AMOUNT_MAX_X100 + 1;
    CHECK_STR(invalid_field(r, NULL), "baseline");
    r.baseline_x100 = -AGG_AMOUNT_MAX_X100;
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    r.has_baseline = false;
    r.baseline_x100 = INT64_MIN; /* ignored when absent */
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    r = good_record();
    r.target_x100 = INT64_MIN;
    CHECK_STR(invalid_field(r, NULL), "target");
    r = good_record();
    r.achieved_x100 = INT64_MAX;
    CHECK_STR(invalid_field(r, NULL), "achieved");
    r = good_record();
    r.completion_x100 = 100001;
    CHECK_STR(invalid_field(r, NULL), "completion");
    r.completion_x100 = -1;
    CHECK_STR(invalid_field(r, NULL), "completion");
    r.has_completion = false;
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    r = good_record();
    r.revision = 0;
    CHECK_STR(invalid_field(r, NULL), "revision");
    r.revision = INT32_MAX;
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    r = good_record();
    r.submitted_ms = -1;
    CHECK_STR(invalid_field(r, NULL), "submitted_at");
    r.submitted_ms = 0;
    CHECK_STR(invalid_field(r, NULL), "(valid)");
}

static const char *fmt(int64_t v) {
    static char buf[32];
    if (agg_format_x100(v, buf, sizeof buf) < 0)
        return "(error)";
    return buf;
}

static void format_x100(void) {
    CHECK_STR(fmt(0), "0.00");
    CHECK_STR(fmt(1), "0.01");
    CHECK_STR(fmt(-50), "-0.50");
    CHECK_STR(fmt(-1250), "-12.50");
    CHECK_STR(fmt(8750), "87.50");
    CHECK_STR(fmt(100000), "1000.00");
    CHECK_STR(fmt(INT64_MAX), "92233720368547758.07");
    CHECK_STR(fmt(INT64_MIN), "-92233720368547758.08");
    char b[5];
    CHECK(agg_format_x100(1250, b, sizeof b) == -1); /* "12.50" needs 6 bytes */
    char b6[6];
    CHECK(agg_format_x100(1250, b6, sizeof b6) == 5);
    CHECK_STR(b6, "12.50");
}

static void completion_average(void) {
    CHECK_I64(agg_completion_avg_x100(0, 3), 0);
    CHECK_I64(agg_completion_avg_x100(17500, 2), 8750);
    CHECK_I64(agg_completion_avg_x100(10000, 3), 3333); /* 33.333 */
    CHECK_I64(agg_completion_avg_x100(20000, 3), 6667); /* 66.667 */
    CHECK_I64(agg_completion_avg_x100(5, 2), 3);        /* 2.5 -> 3: half away from zero */
    CHECK_I64(agg_completion_avg_x100(-5, 2), -3);
    CHECK_I64(agg_completion_avg_x100(-7, 3), -2);
    CHECK_I64(agg_completion_avg_x100(7, 4), 2); /* 1.75 */
    CHECK_I64(agg_completion_avg_x100(INT64_MAX, INT64_MAX), 1);
    CHECK_I64(agg_completion_avg_x100(INT64_MAX, 2), INT64_MAX / 2 + 1);
}

static void regions_list(void) {
    agg_regions_t rg;
    CHECK(agg_regions_load_default(&rg, err, sizeof err) == 0);
    CHECK_I64(rg.count, 30);
    CHECK(agg_regions_contains(&rg, "ub-khan-uul", 11));
    CHECK(agg_regions_contains(&rg, "khentii", 7));
    CHECK(agg_regions_contains(&rg, "arkhangai-x", 9)); /* len bounds the code */
    CHECK(!agg_regions_contains(&rg, "ub", 2));
    CHECK(!agg_regions_contains(&rg, "khentiii", 8));
    CHECK(!agg_regions_contains(&rg, "", 0));

    /* the column may be anywhere; quoting and CRLF are fine */
    CHECK(agg_regions_load_text(&rg, "name,\"code\"\r\nA,\"a-1\"\r\n\r\nB,b\r\n", "x.csv",
                                err, sizeof err) == 0);
    CHECK_I64(rg.count, 2);
    CHECK_STR(rg.code[0], "a-1");
    CHECK_STR(rg.code[1], "b");

    CHECK(agg_regions_load_text(&rg, "code\na\nb\na\n", "x.csv", err, sizeof err) == -1);
    CHECK_STR(err, "x.csv:4: duplicate code \"a\" (first on line 2)");
    CHECK_I64(rg.count, 0);
    CHECK(agg_regions_load_text(&rg, "name\na\n", "x.csv", err, sizeof err) == -1);
    CHECK_STR(err, "x.csv:1: no \"code\" column in the header");
    CHECK(agg_regions_load_text(&rg, "code\nUB\n", "x.csv", err, sizeof err) == -1);
    CHECK_STR(err, "x.csv:2: code must match [a-z0-9-]{1,32}: \"UB\"");
    CHECK(agg_regions_load_text(&rg, "name,code\nonly-name\n", "x.csv", err, sizeof err) ==
          -1);
    CHECK_STR(err, "x.csv:2: no value in the \"code\" column");
    CHECK(agg_regions_load_text(&rg, "code\n", "x.csv", err, sizeof err) == -1);
    CHECK_STR(err, "x.csv: no regions after the header");
    CHECK(agg_regions_load_text(&rg, "", "x.csv", err, sizeof err) == -1);
    CHECK(agg_regions_load_text(&rg, "code\n\"a\n", "x.csv", err, sizeof err) == -1);
    CHECK_STR(err, "x.csv:2: unterminated quoted field at end of input");

    char path[] = "/tmp/agg-test-regions-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        static const char text[] = "code,kind\nub-khan-uul,capital-district\nuvs,aimag\n";
        CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
        CHECK(close(fd) == 0);
        CHECK(agg_regions_load(&rg, path, err, sizeof err) == 0);
        CHECK_I64(rg.count, 2);
        CHECK(agg_regions_contains(&rg, "uvs", 3));
        CHECK(unlink(path) == 0);
    }
    CHECK(agg_regions_load(&rg, "/nonexistent/regions.csv", err, sizeof err) == -1);
    CHECK_STR(err, "/nonexistent/regions.csv: No such file or directory");
}

/* Hostile input (hardening): control characters in text, a submission far ahead. */
static void hostile_text_and_times(void) {
    agg_record_t r = good_record();
    r.title = "a\tb";
    r.title_len = 3;
    CHECK_STR(invalid_field(r, NULL), "(valid)"); /* tab: Word cells have them */
    r.title = "line 1\nline 2";
    r.title_len = strlen(r.title);
    CHECK_STR(invalid_field(r, NULL), "title");
    CHECK_STR(err, "control character 0x0a at byte 7");
    r.title = "\x1b[31mred";
    r.title_len = strlen(r.title);
    CHECK_STR(invalid_field(r, NULL), "title");
    CHECK_STR(err, "control character 0x1b at byte 1");
    r = good_record();
    r.report_id = "id\x7f";
    r.report_id_len = 3;
    CHECK_STR(invalid_field(r, NULL), "report_id");
    CHECK_STR(err, "control character 0x7f at byte 3");

    r = good_record();
    r.submitted_ms = agg_now_ms() + 3600000; /* an hour ahead: clock skew, accepted */
    CHECK_STR(invalid_field(r, NULL), "(valid)");
    r.submitted_ms = agg_now_ms() + 2 * 86400000LL;
    CHECK_STR(invalid_field(r, NULL), "submitted_at");
    CHECK_STR(err, "more than a day in the future");
    r.submitted_ms = 253402300799000LL; /* 9999-12-31T23:59:59Z, a typo */
    CHECK_STR(invalid_field(r, NULL), "submitted_at");
}

TEST_MAIN(TEST(decimal_accepts_spec_syntax), TEST(decimal_rejects_other_syntax),
          TEST(decimal_range), TEST(decimal_error_quotes_are_bounded_and_escaped),
          TEST(completion), TEST(int_range), TEST(rfc3339_values), TEST(rfc3339_rejects),
          TEST(codes), TEST(utf8_text), TEST(text_every_byte_everywhere), TEST(units), TEST(record_validation),
          TEST(format_x100), TEST(completion_average), TEST(regions_list),
          TEST(hostile_text_and_times))
