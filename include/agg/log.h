/* One line per event on stderr: "<utc time> <level> <event> key=value ...". */
#ifndef AGG_LOG_H
#define AGG_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { AGG_LOG_ERROR = 0, AGG_LOG_WARN, AGG_LOG_INFO, AGG_LOG_DEBUG } agg_log_level_t;

extern int agg_log_level; /* messages above this level are dropped; default INFO */

/* event is a short snake_case name; fmt/... format the key=value fields. */
void agg_log(agg_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define agg_error(ev, ...) agg_log(AGG_LOG_ERROR, ev, __VA_ARGS__)
#define agg_warn(ev, ...) agg_log(AGG_LOG_WARN, ev, __VA_ARGS__)
#define agg_info(ev, ...) agg_log(AGG_LOG_INFO, ev, __VA_ARGS__)
#define agg_debug(ev, ...) agg_log(AGG_LOG_DEBUG, ev, __VA_ARGS__)

/* Formats a reason into errstr (the "errors are values" convention: errstr, errstr_size
 * out-parameters) and returns -1, so a failing check reads `return agg_fail(...)`. */
int agg_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rate limit for events that repeat while an outage lasts (librdkafka reconnect errors,
 * stalled retries): true when an event with this key may be logged now, at most once per
 * interval_ms; *suppressed gets how many were dropped since the last one logged.
 * Thread-safe (librdkafka logs from its own threads). */
bool agg_log_every(const char *key, long long interval_ms, unsigned long *suppressed);

/* Milliseconds since the epoch (CLOCK_REALTIME) and a monotonic clock. */
long long agg_now_ms(void);
long long agg_mono_ms(void);

#endif
