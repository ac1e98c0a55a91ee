/* The report record: field parsers, code and text checks, whole-record validation and
 * the fixed-point formatting shared by producer and worker (SPEC sections 3 and 5). */
#include "agg/record.h"

#include "agg/log.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "agg/period.h"
#include "agg/regions.h"

/* Bad input is quoted back in error messages; the quote is bounded so one absurd field
 * cannot flood a report, and escaped so the message stays one printable line. */
#define QUOTE_MAX 40

static const char *const unit_names[AGG_UNIT__COUNT] = {
    [AGG_UNIT_COUNT] = "count", [AGG_UNIT_PERSON] = "person", [AGG_UNIT_MNT] = "mnt",
    [AGG_UNIT_PCT] = "pct",     [AGG_UNIT_TEXT] = "text",
};

const char *agg_unit_name(agg_unit_t unit) {
    if ((int)unit < 0 || unit >= AGG_UNIT__COUNT)
        return "?";
    return unit_names[unit];
}

int agg_unit_parse(const char *s, size_t len, agg_unit_t *out) {
    for (int u = 0; u < AGG_UNIT__COUNT; u++) {
        if (strlen(unit_names[u]) == len && memcmp(unit_names[u], s, len) == 0) {
            *out = (agg_unit_t)u;
            return 0;
        }
    }
    return -1;
}

bool agg_unit_is_summed(agg_unit_t unit) {
    return unit == AGG_UNIT_COUNT || unit == AGG_UNIT_PERSON || unit == AGG_UNIT_MNT;
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the bytes there are
 * not one: overlong forms, UTF-16 surrogates and code points above U+10FFFF are
 * rejected as RFC 3629 requires. */
static size_t utf8_seq_len(const unsigned char *s, size_t len) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Writes s as a C-style quoted string into dst: control bytes, '"', '\\' and invalid
 * UTF-8 are escaped; text longer than QUOTE_MAX bytes is cut at a character boundary
 * and marked with "...". Always NUL-terminates when dstsz > 0. */
static void quote_text(char *dst, size_t dstsz, const char *s, size_t len) {
    if (dstsz < 8) {
        if (dstsz > 0)
            dst[0] = '\0';
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    /* Content may reach room; the closing quote, "..." and the NUL fit after it. */
    size_t room = dstsz - 5;
    dst[o++] = '"';
    while (i < len && i < QUOTE_MAX) {
        char tmp[8];
        size_t tn;
        size_t n = utf8_seq_len(u + i, len - i);
        if (u[i] == '"' || u[i] == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)u[i];
            tn = 2;
        } else if (n == 0 || u[i] < 0x20 || u[i] == 0x7F) {
            tn = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", u[i]);
            n = 1;
        } else {
            memcpy(tmp, s + i, n);
            tn = n;
        }
        if (o + tn > room)
            break;
        memcpy(dst + o, tmp, tn);
        o += tn;
        i += n;
    }
    dst[o++] = '"';
    if (i < len) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* snprintf into errstr with the quoted bad text appended after ": ". */
static int fail_quoted(char *errstr, size_t errstr_size, const char *what, const char *s,
                       size_t len) {
    char q[QUOTE_MAX * 4 + 16];
    quote_text(q, sizeof q, s, len);
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, "%s: %s", what, q);
    return -1;
}

static int fail(char *errstr, size_t errstr_size, const char *msg) {
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, "%s", msg);
    return -1;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses -?[0-9]+(\.[0-9]{1,2})? into hundredths. Returns 0, -1 on bad syntax, or -2
 * when |value| exceeds limit_x100 (then *out is unspecified). */
static int parse_fixed2(const char *s, size_t len, uint64_t limit_x100, int64_t *out,
                        bool *negative) {
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_end = i;
    if (int_end == int_start)
        return -1;
    size_t frac_start = int_end, frac_end = int_end;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start || frac_end - frac_start > 2)
            return -1;
    }
    if (i != len)
        return -1;

    /* Accumulate the magnitude; stopping as soon as it passes the limit keeps any
     * number of leading digits from overflowing. */
    uint64_t mag = 0;
    for (size_t k = int_start; k < int_end; k++) {
        mag = mag * 10 + (uint64_t)(s[k] - '0');
        if (mag > limit_x100)
            return -2;
    }
    uint64_t frac = 0;
    size_t nfrac = frac_end - frac_start;
    for (size_t k = frac_start; k < frac_end; k++)
        frac = frac * 10 + (uint64_t)(s[k] - '0');
    if (nfrac == 1)
        frac *= 10;
    /* mag <= limit_x100 <= 10^15 here, so mag * 100 fits in 64 bits. */
    mag = mag * 100 + frac;
    if (mag > limit_x100)
        return -2;
    *out = neg ? -(int64_t)mag : (int64_t)mag;
    *negative = neg && mag != 0;
    return 0;
}

static const char decimal_syntax[] =
    "not a decimal with at most 2 fraction digits and '.' as separator";

int agg_parse_decimal_x100(const char *s, size_t len, int64_t *out, char *errstr,
                           size_t errstr_size) {
    bool neg;
    int rc = parse_fixed2(s, len, (uint64_t)AGG_AMOUNT_MAX_X100, out, &neg);
    if (rc == -1)
        return fail_quoted(errstr, errstr_size, decimal_syntax, s, len);
    if (rc == -2) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of range (|value| <= %lld)",
                     (long long)(AGG_AMOUNT_MAX_X100 / 100));
        return -1;
    }
    return 0;
}

int agg_parse_completion_x100(const char *s, size_t len, int32_t *out, char *errstr,
                              size_t errstr_size) {
    bool neg;
    int64_t v;
    int rc = parse_fixed2(s, len, AGG_COMPLETION_MAX_X100, &v, &neg);
    if (rc == -1)
        return fail_quoted(errstr, errstr_size, decimal_syntax, s, len);
    if (rc == -2 || neg) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of range (0 to %d)",
                     AGG_COMPLETION_MAX_X100 / 100);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

int agg_parse_int_range(const char *s, size_t len, long min, long max, long *out,
                        char *errstr, size_t errstr_size) {
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len)
        return fail_quoted(errstr, errstr_size, "not an integer", s, len);
    /* Saturate instead of overflowing: anything past the long range is out of range
     * anyway, and the range message is the useful one. */
    uint64_t mag = 0;
    bool huge = false;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return fail_quoted(errstr, errstr_size, "not an integer", s, len);
        if (mag > (UINT64_MAX - 9) / 10)
            huge = true;
        else
            mag = mag * 10 + (uint64_t)(s[i] - '0');
    }
    long v = 0;
    bool in_range = !huge;
    if (in_range) {
        if (neg) {
            if (mag > (uint64_t)LONG_MAX + 1)
                in_range = false;
            else
                v = mag == (uint64_t)LONG_MAX + 1 ? LONG_MIN : -(long)mag;
        } else {
            if (mag > (uint64_t)LONG_MAX)
                in_range = false;
            else
                v = (long)mag;
        }
    }
    if (!in_range || v < min || v > max) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "must be between %ld and %ld", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads exactly n digits at s[*i]; returns -1 when they are not all there. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out) {
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static bool expect(const char *s, size_t len, size_t *i, char c) {
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

static int days_in_month(int year, int month) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 29;
    return dm[month - 1];
}

/* RFC 3339 section 5.6. 't', 'z' and a space instead of 'T' are accepted (its note on
 * ABNF case-insensitivity and on the space). A leap second (:60) is read as :59 of the
 * same minute: ms since the epoch have no place for it, and clamping keeps the order
 * of timestamps. Fraction digits beyond milliseconds are truncated. */
int agg_parse_rfc3339_ms(const char *s, size_t len, int64_t *out, char *errstr,
                         size_t errstr_size) {
    static const char syntax[] = "not an RFC 3339 timestamp like 2024-07-05T10:00:00+08:00";
    size_t i = 0;
    int year, month, day, hour, min, sec, ms = 0, off_min = 0;
    if (digits(s, len, &i, 4, &year) || !expect(s, len, &i, '-') ||
        digits(s, len, &i, 2, &month) || !expect(s, len, &i, '-') ||
        digits(s, len, &i, 2, &day))
        return fail_quoted(errstr, errstr_size, syntax, s, len);
    if (!(expect(s, len, &i, 'T') || expect(s, len, &i, 't') || expect(s, len, &i, ' ')))
        return fail_quoted(errstr, errstr_size, syntax, s, len);
    if (digits(s, len, &i, 2, &hour) || !expect(s, len, &i, ':') ||
        digits(s, len, &i, 2, &min) || !expect(s, len, &i, ':') ||
        digits(s, len, &i, 2, &sec))
        return fail_quoted(errstr, errstr_size, syntax, s, len);
    if (expect(s, len, &i, '.')) {
        size_t start = i;
        for (; i < len && is_digit(s[i]); i++)
            if (i - start < 3)
                ms = ms * 10 + (s[i] - '0');
        size_t n = i - start;
        if (n == 0)
            return fail_quoted(errstr, errstr_size, syntax, s, len);
        for (; n < 3; n++)
            ms *= 10;
    }
    if (expect(s, len, &i, 'Z') || expect(s, len, &i, 'z')) {
        off_min = 0;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ':') ||
            digits(s, len, &i, 2, &om))
            return fail_quoted(errstr, errstr_size, syntax, s, len);
        if (oh > 23 || om > 59)
            return fail_quoted(errstr, errstr_size, "invalid UTC offset", s, len);
        off_min = sign * (oh * 60 + om);
    } else {
        return fail_quoted(errstr, errstr_size, syntax, s, len);
    }
    if (i != len)
        return fail_quoted(errstr, errstr_size, syntax, s, len);
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return fail_quoted(errstr, errstr_size, "invalid date", s, len);
    if (hour > 23 || min > 59 || sec > 60)
        return fail_quoted(errstr, errstr_size, "invalid time of day", s, len);
    if (sec == 60)
        sec = 59;
    int64_t days = agg_days_from_civil(year, month, day);
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - (int64_t)off_min * 60;
    *out = secs * 1000 + ms;
    return 0;
}

/* Code fields are restricted to a byte class and a length; allowed() says which bytes. */
static int check_code(const char *s, size_t len, size_t max, bool (*allowed)(unsigned char),
                      const char *pattern, char *errstr, size_t errstr_size) {
    bool ok = len >= 1 && len <= max;
    for (size_t i = 0; ok && i < len; i++)
        ok = allowed((unsigned char)s[i]);
    if (ok)
        return 0;
    char what[96];
    snprintf(what, sizeof what, "must match %s", pattern);
    return fail_quoted(errstr, errstr_size, what, s, len);
}

static bool is_lower_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
static bool is_alnum(unsigned char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
static bool region_char(unsigned char c) { return is_lower_alnum(c) || c == '-'; }
static bool goal_char(unsigned char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}
static bool indicator_char(unsigned char c) { return goal_char(c) || c == '/' || c == '#'; }

int agg_check_region(const char *s, size_t len, char *errstr, size_t errstr_size) {
    return check_code(s, len, AGG_REGION_MAX, region_char, "[a-z0-9-]{1,32}", errstr,
                      errstr_size);
}

int agg_check_goal(const char *s, size_t len, char *errstr, size_t errstr_size) {
    return check_code(s, len, AGG_GOAL_MAX, goal_char, "[0-9A-Za-z._-]{1,32}", errstr,
                      errstr_size);
}

int agg_check_indicator(const char *s, size_t len, char *errstr, size_t errstr_size) {
    return check_code(s, len, AGG_INDICATOR_MAX, indicator_char, "[0-9A-Za-z._/#-]{1,64}",
                      errstr, errstr_size);
}

/* True when all 8 bytes at s are printable ASCII (0x20..0x7e): no high bit, no byte
 * below 0x20, none equal to 0x7f (the exact word tests of "Bit Twiddling Hacks"). Any
 * other word goes byte by byte, where each rule names its byte. */
static bool printable_ascii8(const unsigned char *s) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, s, sizeof w);
    uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    uint64_t x = w ^ (ones * 0x7f);
    uint64_t is_del = (x - ones) & ~x & highs;
    return ((w & highs) | below_space | is_del) == 0;
}

/* NUL is valid UTF-8 but is refused: titles and ids end up in C strings downstream
 * (logs, summaries), where it would silently cut the text. */
int agg_check_text(const char *s, size_t len, size_t max, char *errstr,
                   size_t errstr_size) {
    if (len > max) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "longer than %zu bytes (%zu)", max, len);
        return -1;
    }
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (len - i >= 8 && printable_ascii8(u + i)) {
            i += 8; /* the common case (codes, Latin text) at a word a time */
            continue;
        }
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "invalid UTF-8 at byte %zu", i + 1);
            return -1;
        }
        if (u[i] == 0) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "NUL byte at byte %zu", i + 1);
            return -1;
        }
        /* Control characters (a newline, an escape sequence) would break the lines of
         * logs, reports and the CSV a dashboard exports; tab is kept (Word cells). */
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "control character 0x%02x at byte %zu", u[i],
                         i + 1);
            return -1;
        }
        i += n;
    }
    return 0;
}

static int check_amount(int64_t v, const char *name, const char **field, char *errstr,
                        size_t errstr_size) {
    if (v >= -AGG_AMOUNT_MAX_X100 && v <= AGG_AMOUNT_MAX_X100)
        return 0;
    *field = name;
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, "out of range (|value| <= %lld)",
                 (long long)(AGG_AMOUNT_MAX_X100 / 100));
    return -1;
}

int agg_record_validate(const agg_record_t *r, const struct agg_regions *regions,
                        const char **field, char *errstr, size_t errstr_size) {
    const char *dummy;
    if (!field)
        field = &dummy;
    /* Inline strings may arrive unterminated from a decoder; strnlen past the maximum
     * makes them "too long" instead of an overread. */
    size_t rlen = strnlen(r->region, sizeof r->region);
    *field = "region";
    if (agg_check_region(r->region, rlen, errstr, errstr_size))
        return -1;
    if (regions && !agg_regions_contains(regions, r->region, rlen)) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size,
                     "unknown region \"%.*s\" (not in the reference list)", (int)rlen,
                     r->region);
        return -1;
    }
    *field = "year";
    if (r->year < AGG_YEAR_MIN || r->year > AGG_YEAR_MAX) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "must be between %d and %d", AGG_YEAR_MIN,
                     AGG_YEAR_MAX);
        return -1;
    }
    *field = "quarter";
    if (r->quarter < 1 || r->quarter > 4)
        return fail(errstr, errstr_size, "must be between 1 and 4");
    *field = "goal";
    if (agg_check_goal(r->goal, strnlen(r->goal, sizeof r->goal), errstr, errstr_size))
        return -1;
    *field = "indicator";
    if (agg_check_indicator(r->indicator, strnlen(r->indicator, sizeof r->indicator),
                            errstr, errstr_size))
        return -1;
    *field = "title";
    if (r->title_len > 0 && !r->title)
        return fail(errstr, errstr_size, "missing text");
    if (r->title_len > 0 &&
        agg_check_text(r->title, r->title_len, AGG_TITLE_MAX, errstr, errstr_size))
        return -1;
    *field = "unit";
    if ((int)r->unit < 0 || r->unit >= AGG_UNIT__COUNT) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "unknown unit %d", (int)r->unit);
        return -1;
    }
    if (r->has_baseline &&
        check_amount(r->baseline_x100, "baseline", field, errstr, errstr_size))
        return -1;
    if (r->has_target && check_amount(r->target_x100, "target", field, errstr, errstr_size))
        return -1;
    if (r->has_achieved &&
        check_amount(r->achieved_x100, "achieved", field, errstr, errstr_size))
        return -1;
    *field = "completion";
    if (r->has_completion &&
        (r->completion_x100 < 0 || r->completion_x100 > AGG_COMPLETION_MAX_X100)) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of range (0 to %d)",
                     AGG_COMPLETION_MAX_X100 / 100);
        return -1;
    }
    *field = "revision";
    /* revision is int32_t, so AGG_REVISION_MAX (INT32_MAX) is its upper bound. */
    if (r->revision < 1) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "must be between 1 and %ld", AGG_REVISION_MAX);
        return -1;
    }
    *field = "submitted_at";
    if (r->submitted_ms < 0)
        return fail(errstr, errstr_size, "before 1970-01-01T00:00:00Z");
    /* A typo like year 9999 would pin the region's last-submission score and make it
     * "late" for good; a day of clock skew between districts and us is tolerated. */
    if (r->submitted_ms > agg_now_ms() + AGG_SUBMITTED_FUTURE_MAX_MS)
        return fail(errstr, errstr_size, "more than a day in the future");
    *field = "report_id";
    if (r->report_id_len > 0 && !r->report_id)
        return fail(errstr, errstr_size, "missing text");
    if (r->report_id_len > 0 && agg_check_text(r->report_id, r->report_id_len,
                                               AGG_REPORT_ID_MAX, errstr, errstr_size))
        return -1;
    *field = NULL;
    return 0;
}

int agg_format_x100(int64_t v, char *buf, size_t bufsz) {
    /* Negating in unsigned arithmetic is defined for INT64_MIN as well. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(buf, bufsz, "%s%" PRIu64 ".%02u", v < 0 ? "-" : "", mag / 100,
                     (unsigned)(mag % 100));
    if (n < 0 || (size_t)n >= bufsz)
        return -1;
    return n;
}

int64_t agg_completion_avg_x100(int64_t completion_sum_x100, int64_t assessed) {
    if (assessed <= 0)
        return 0;
    int64_t q = completion_sum_x100 / assessed;
    int64_t r = completion_sum_x100 % assessed;
    /* |r| < assessed, so comparing |r| with assessed - |r| cannot overflow. */
    uint64_t ar = r < 0 ? (uint64_t)0 - (uint64_t)r : (uint64_t)r;
    if (ar >= (uint64_t)assessed - ar)
        q += r < 0 ? -1 : 1;
    return q;
}
