/* The explicit deadline list (agg_deadlines_init, lib/deadline.c) and the deadlines
 * it yields: "2024-Q2=2024-07-15T00:00:00+08:00,2024-Q3=...".
 *
 * The rule's day comes from the input length, so every day 1..31 (and the short
 * months it clamps to) is reached without a binary prefix in the seed files.
 * Promises checked: at most AGG_DEADLINE_EXPLICIT_MAX items; a quarter given
 * explicitly answers with the last time given for it; every quarter in range has a
 * deadline after the quarter's own end under the rule; and an accepted deadline is
 * one the close markers can carry: the producer writes it into a marker, and a worker
 * must decode that marker (not dead-letter it) and read the same deadline back. */
#include <stdint.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/deadline.h"
#include "agg/period.h"
#include "agg/record.h"
#include "fuzz.h"

static agg_arena_t arena;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (agg_arena_init(&arena, 4096) != 0)
        abort();
    return 0;
}

/* What agg-produce --close does with the deadline, and what the worker reads back. */
static void check_marker(int year, int quarter, int64_t deadline_ms) {
    agg_close_t c = {.year = year, .quarter = quarter, .requested_ms = 1, .partitions = 1,
                     .deadline_ms = deadline_ms};
    uint8_t *wire = NULL;
    long n = agg_encode_close(&c, &wire);
    FUZZ_CHECK(n > 0);
    agg_msg_t m;
    char err[256];
    FUZZ_CHECK(agg_decode(wire, (size_t)n, &arena, &m, err, sizeof err) == 0);
    /* 0 would read as "no deadline in the marker" (pre-v2) and fall back to the rule. */
    FUZZ_CHECK(m.kind == AGG_MSG_CLOSE && m.close.deadline_ms == deadline_ms &&
               deadline_ms > 0);
    free(wire);
    agg_arena_reset(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *list = fuzz_cstr(data, size);
    int day = 1 + (int)(size % 31);
    agg_deadlines_t d;
    char err[256];
    err[0] = '\0';
    if (agg_deadlines_init(&d, day, list, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0' && fuzz_terminated(err, sizeof err));
        free(list);
        return 0;
    }
    FUZZ_CHECK(d.day == day && d.n <= AGG_DEADLINE_EXPLICIT_MAX);
    for (size_t i = 0; i < d.n; i++) {
        int y = d.explicit_[i].year, q = d.explicit_[i].quarter;
        FUZZ_CHECK(y >= AGG_YEAR_MIN && y <= AGG_YEAR_MAX && q >= 1 && q <= 4);
        size_t last = i;
        for (size_t j = i + 1; j < d.n; j++)
            if (d.explicit_[j].year == y && d.explicit_[j].quarter == q)
                last = j;
        FUZZ_CHECK(agg_deadline_ms(&d, y, q) == d.explicit_[last].ms);
        check_marker(y, q, d.explicit_[i].ms);
    }
    /* The rule: 00:00 UB time on day N of the month after the quarter ends. */
    for (int y = AGG_YEAR_MIN; y <= AGG_YEAR_MAX; y += 17)
        for (int q = 1; q <= 4; q++) {
            int64_t end_ms = agg_days_from_civil(q == 4 ? y + 1 : y, q == 4 ? 1 : 3 * q + 1, 1) *
                             86400000LL;
            int64_t rule = agg_quarter_deadline_ms(y, q, day);
            FUZZ_CHECK(rule >= end_ms - 8LL * 3600 * 1000 &&
                       rule < end_ms + 31LL * 86400000);
        }
    FUZZ_CHECK(agg_deadline_ms(&d, AGG_YEAR_MIN - 1, 1) == -1);
    free(list);
    return 0;
}
