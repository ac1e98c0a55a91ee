/* Event log: one line per event on stderr, "<utc time> <level> <event> key=value ...",
 * so that operators can grep and tools can split lines without a parser. */
#include "agg/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int agg_log_level = AGG_LOG_INFO;

/* Longer lines are cut and end in "...". The line is built first and written with one
 * call (stderr is unbuffered) so lines of concurrent threads do not interleave. */
#define LOG_LINE_MAX 4096

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static long long clock_ms(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0; /* cannot fail for these clocks on Linux */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long agg_now_ms(void) { return clock_ms(CLOCK_REALTIME); }

long long agg_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

void agg_log(agg_log_level_t level, const char *event, const char *fmt, ...) {
    if ((int)level > agg_log_level)
        return;
    int saved_errno = errno; /* callers log and then still look at errno */
    char line[LOG_LINE_MAX];
    size_t n = 0;

    long long now = agg_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) && strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
        n = strlen(line);
    const char *lv =
        (int)level >= 0 && (size_t)level < sizeof level_names / sizeof *level_names
            ? level_names[level]
            : "?";
    int w = snprintf(line + n, sizeof line - n, ".%03dZ %s %s", (int)(now % 1000), lv,
                     event ? event : "-");
    if (w > 0)
        n += (size_t)w < sizeof line - n ? (size_t)w : sizeof line - n - 1;

    if (fmt && fmt[0] && n + 1 < sizeof line) {
        line[n++] = ' ';
        size_t start = n;
        va_list ap;
        va_start(ap, fmt);
        w = vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
        if (w > 0) {
            bool cut = (size_t)w >= sizeof line - n;
            n += cut ? sizeof line - n - 1 : (size_t)w;
            if (cut && n >= 3)
                memcpy(line + n - 3, "...", 3);
        } else {
            n--; /* no fields: no trailing space */
        }
        /* A value with a line break (e.g. a server's error text) must not split the
         * event over two lines. */
        for (size_t i = start; i < n; i++)
            if (line[i] == '\n' || line[i] == '\r')
                line[i] = ' ';
    }
    if (n + 1 >= sizeof line)
        n = sizeof line - 2;
    line[n++] = '\n';
    fwrite(line, 1, n, stderr); /* nowhere to report a failure to write the log */
    fflush(stderr);
    errno = saved_errno;
}

/* A handful of keys is enough: the limited events are few kinds of outage messages.
 * When the table is full the oldest slot is reused, which at worst logs a line more. */
#define RATE_SLOTS 32
#define RATE_KEY_MAX 96

static struct {
    char key[RATE_KEY_MAX];
    long long last_ms;
    unsigned long suppressed;
} rate_slots[RATE_SLOTS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

bool agg_log_every(const char *key, long long interval_ms, unsigned long *suppressed) {
    long long now = agg_mono_ms();
    bool allow;
    size_t oldest = 0;

    pthread_mutex_lock(&rate_lock);
    size_t i = 0;
    for (; i < RATE_SLOTS; i++) {
        if (strncmp(rate_slots[i].key, key, RATE_KEY_MAX - 1) == 0 && rate_slots[i].key[0])
            break;
        if (rate_slots[i].last_ms < rate_slots[oldest].last_ms)
            oldest = i;
    }
    if (i == RATE_SLOTS) {
        i = oldest;
        snprintf(rate_slots[i].key, RATE_KEY_MAX, "%s", key);
        rate_slots[i].last_ms = 0;
        rate_slots[i].suppressed = 0;
    }
    allow = rate_slots[i].last_ms == 0 || now - rate_slots[i].last_ms >= interval_ms;
    if (allow) {
        *suppressed = rate_slots[i].suppressed;
        rate_slots[i].suppressed = 0;
        rate_slots[i].last_ms = now ? now : 1;
    } else {
        rate_slots[i].suppressed++;
    }
    pthread_mutex_unlock(&rate_lock);
    return allow;
}

int agg_fail(char *errstr, size_t errstr_size, const char *fmt, ...) {
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}
