/* contrib.c: a record's contribution to the aggregates, and its stored state. */
#include "agg/contrib.h"

#include <string.h>

const char *const agg_field_names[AGG_F__N] = {
    "indicators",           "assessed",              "completion_sum_x100",
    "met",                  "partial",               "unmet",
    "target_x100:count",    "target_x100:person",    "target_x100:mnt",
    "achieved_x100:count",  "achieved_x100:person",  "achieved_x100:mnt",
    "#target_x100:count",   "#target_x100:person",   "#target_x100:mnt",
    "#achieved_x100:count", "#achieved_x100:person", "#achieved_x100:mnt",
};

void agg_contrib_of(const agg_record_t *r, agg_contrib_t *c) {
    memset(c, 0, sizeof *c);
    c->revision = r->revision;
    c->unit = r->unit;
    c->has_completion = r->has_completion;
    c->completion_x100 = r->completion_x100;
    c->has_target = r->has_target;
    c->target_x100 = r->target_x100;
    c->has_achieved = r->has_achieved;
    c->achieved_x100 = r->achieved_x100;
    memcpy(c->goal, r->goal, sizeof c->goal);
}

int agg_contrib_add(int64_t d[AGG_F__N], const agg_contrib_t *c, int sign) {
    int64_t v[AGG_F__N] = {0}, out[AGG_F__N];
    v[AGG_F_INDICATORS] = 1;
    if (c->has_completion) {
        int32_t cv = c->completion_x100;
        v[AGG_F_ASSESSED] = 1;
        /* Completion above 100 % counts as 100 % in the average (SPEC 5). */
        v[AGG_F_COMPLETION_SUM] = cv < 10000 ? cv : 10000;
        v[cv >= 10000 ? AGG_F_MET : cv > 0 ? AGG_F_PARTIAL : AGG_F_UNMET] = 1;
    }
    if (agg_unit_is_summed(c->unit)) {
        int u = (int)c->unit;
        if (c->has_target) {
            v[AGG_F_AMOUNT + u] = c->target_x100;
            v[AGG_F_AMOUNT_COUNT + u] = 1;
        }
        if (c->has_achieved) {
            v[AGG_F_AMOUNT + AGG_SUMMED_UNITS + u] = c->achieved_x100;
            v[AGG_F_AMOUNT_COUNT + AGG_SUMMED_UNITS + u] = 1;
        }
    }
    for (int f = 0; f < AGG_F__N; f++) {
        int64_t x = v[f];
        if (sign < 0 && __builtin_mul_overflow(x, -1, &x))
            return -1;
        if (__builtin_add_overflow(d[f], x, &out[f]))
            return -1;
    }
    memcpy(d, out, sizeof out);
    return 0;
}

size_t agg_fmt_i64(char *buf, int64_t v) {
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

size_t agg_contrib_format(const agg_contrib_t *c, char *buf) {
    size_t n = agg_fmt_i64(buf, c->revision);
    buf[n++] = '|';
    n += agg_fmt_i64(buf + n, (int64_t)c->unit);
    buf[n++] = '|';
    if (c->has_completion)
        n += agg_fmt_i64(buf + n, c->completion_x100);
    buf[n++] = '|';
    if (c->has_target)
        n += agg_fmt_i64(buf + n, c->target_x100);
    buf[n++] = '|';
    if (c->has_achieved)
        n += agg_fmt_i64(buf + n, c->achieved_x100);
    buf[n++] = '|';
    size_t gl = strnlen(c->goal, AGG_GOAL_MAX);
    memcpy(buf + n, c->goal, gl);
    return n + gl;
}

/* One '|'-terminated (or, for stop = '\0', end-terminated) optional integer. */
static int parse_i64(const char **p, const char *end, char stop, bool *has, int64_t *out) {
    const char *s = *p;
    bool neg = false;
    uint64_t v = 0;
    *has = false;
    if (s < end && *s == '-') {
        neg = true;
        s++;
    }
    const char *digits = s;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (stop == '\0' ? s != end : (s == end || *s != stop))
        return -1;
    if (s > digits) {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *has = true;
        *out = neg ? -(int64_t)v : (int64_t)v;
    } else if (neg) {
        return -1;
    }
    *p = s + (stop != '\0');
    return 0;
}

int agg_contrib_parse(const char *s, size_t len, agg_contrib_t *c) {
    const char *p = s, *end = s + len;
    bool has;
    int64_t v;

    memset(c, 0, sizeof *c);
    if (parse_i64(&p, end, '|', &has, &v) || !has || v < 1 || v > AGG_REVISION_MAX)
        return -1;
    c->revision = (int32_t)v;
    if (parse_i64(&p, end, '|', &has, &v) || !has || v < 0 || v >= AGG_UNIT__COUNT)
        return -1;
    c->unit = (agg_unit_t)v;
    if (parse_i64(&p, end, '|', &c->has_completion, &v))
        return -1;
    if (c->has_completion && (v < 0 || v > AGG_COMPLETION_MAX_X100))
        return -1;
    c->completion_x100 = c->has_completion ? (int32_t)v : 0;
    if (parse_i64(&p, end, '|', &c->has_target, &c->target_x100))
        return -1;
    if (parse_i64(&p, end, '|', &c->has_achieved, &c->achieved_x100))
        return -1;
    /* Every stored goal passed agg_check_goal; anything else (a NUL, which would cut
     * the goal as a C string, found by fuzz_contrib) is not a state a worker wrote. */
    size_t gl = (size_t)(end - p);
    if (agg_check_goal(p, gl, NULL, 0) != 0)
        return -1;
    memcpy(c->goal, p, gl);
    c->goal[gl] = '\0';
    return 0;
}
