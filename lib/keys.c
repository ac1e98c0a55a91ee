/* Redis key names (SPEC section 6). Dashboards read these names, so they are spelled
 * in this one file only; every writer and reader goes through these functions. */
#include "agg/keys.h"

#include <stdarg.h>
#include <stdio.h>

/* A truncated key would address some other key, so a short buffer is an error. */
__attribute__((format(printf, 3, 4))) static int key_fmt(char *buf, size_t bufsz,
                                                         const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, bufsz, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= bufsz) {
        if (bufsz > 0)
            buf[0] = '\0';
        return -1;
    }
    return n;
}

/* The scope part after "P:" shared by the scope hashes and their counters. */
static int scope_key(char *buf, size_t bufsz, const char *head, const char *quarter,
                     const char *region, const char *goal) {
    if (region && goal)
        return key_fmt(buf, bufsz, "%s%s:region:%s:goal:%s", head, quarter, region, goal);
    if (region)
        return key_fmt(buf, bufsz, "%s%s:region:%s", head, quarter, region);
    if (goal)
        return key_fmt(buf, bufsz, "%s%s:goal:%s", head, quarter, goal);
    return key_fmt(buf, bufsz, "%s%s:total", head, quarter);
}

int agg_key_scope(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                  const char *region, const char *goal) {
    char head[AGG_KEY_MAX];
    if (key_fmt(head, sizeof head, "%s:", prefix) < 0)
        return -1;
    return scope_key(buf, bufsz, head, quarter, region, goal);
}

int agg_key_scope_counts(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                         const char *region, const char *goal) {
    char head[AGG_KEY_MAX];
    if (key_fmt(head, sizeof head, "%s:internal:cnt:", prefix) < 0)
        return -1;
    return scope_key(buf, bufsz, head, quarter, region, goal);
}

int agg_key_regions(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:%s:regions", prefix, quarter);
}

int agg_key_goals(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:%s:goals", prefix, quarter);
}

int agg_key_rank(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                 const char *goal) {
    return key_fmt(buf, bufsz, "%s:%s:rank:goal:%s", prefix, quarter, goal);
}

int agg_key_state(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:%s:state", prefix, quarter);
}

int agg_key_quarters(char *buf, size_t bufsz, const char *prefix) {
    return key_fmt(buf, bufsz, "%s:quarters", prefix);
}

int agg_key_records(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                    const char *region) {
    return key_fmt(buf, bufsz, "%s:internal:rec:%s:%s", prefix, quarter, region);
}

int agg_key_offsets(char *buf, size_t bufsz, const char *prefix, const char *topic) {
    return key_fmt(buf, bufsz, "%s:internal:offsets:%s", prefix, topic);
}

int agg_key_metrics(char *buf, size_t bufsz, const char *prefix, const char *member) {
    return key_fmt(buf, bufsz, "%s:internal:metrics:%s", prefix, member);
}

int agg_key_regions_first(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:%s:regions:first", prefix, quarter);
}

int agg_key_scope_base(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:%s:", prefix, quarter);
}

int agg_key_closed_partitions(char *buf, size_t bufsz, const char *prefix,
                              const char *quarter) {
    return key_fmt(buf, bufsz, "%s:internal:closed:%s", prefix, quarter);
}

int agg_key_outbox(char *buf, size_t bufsz, const char *prefix) {
    return key_fmt(buf, bufsz, "%s:internal:outbox", prefix);
}

int agg_key_lock(char *buf, size_t bufsz, const char *prefix, const char *what) {
    return key_fmt(buf, bufsz, "%s:internal:lock:%s", prefix, what);
}

int agg_key_replay_lock(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:internal:lock:replay:%s", prefix, quarter);
}

int agg_key_replay_staging(char *buf, size_t bufsz, const char *prefix, const char *quarter) {
    return key_fmt(buf, bufsz, "%s:internal:replay:%s", prefix, quarter);
}
