/* The stored contribution state (agg_contrib_parse, lib/contrib.c), which the worker
 * reads back from Redis to take an old revision's contribution out again:
 * "<revision>|<unit>|<completion>|<target>|<achieved>|<goal>".
 *
 * Promises checked: parse -> format -> parse is the identity on what was accepted, the
 * text fits AGG_CONTRIB_STATE_MAX, and adding then removing a contribution leaves the
 * deltas where they were (or is refused as a whole, never half applied). */
#include <stdint.h>
#include <string.h>

#include "agg/contrib.h"
#include "fuzz.h"

static int same(const agg_contrib_t *a, const agg_contrib_t *b) {
    return a->revision == b->revision && a->unit == b->unit &&
           a->has_completion == b->has_completion && a->completion_x100 == b->completion_x100 &&
           a->has_target == b->has_target && a->target_x100 == b->target_x100 &&
           a->has_achieved == b->has_achieved && a->achieved_x100 == b->achieved_x100 &&
           strcmp(a->goal, b->goal) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exact-size copy: the parser takes (pointer, length) and must not read past. */
    char *s = malloc(size ? size : 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    agg_contrib_t c;
    if (agg_contrib_parse(s, size, &c) != 0) {
        free(s);
        return 0;
    }
    FUZZ_CHECK(c.revision >= 1 && (int)c.unit >= 0 && c.unit < AGG_UNIT__COUNT);
    FUZZ_CHECK(fuzz_terminated(c.goal, sizeof c.goal) && c.goal[0] != '\0');

    char buf[AGG_CONTRIB_STATE_MAX + 8];
    memset(buf, 0x5a, sizeof buf);
    size_t n = agg_contrib_format(&c, buf);
    FUZZ_CHECK(n <= AGG_CONTRIB_STATE_MAX);
    FUZZ_CHECK(buf[AGG_CONTRIB_STATE_MAX] == 0x5a); /* nothing written past the bound */
    agg_contrib_t back;
    FUZZ_CHECK(agg_contrib_parse(buf, n, &back) == 0);
    FUZZ_CHECK(same(&c, &back));

    int64_t d[AGG_F__N] = {0}, before[AGG_F__N];
    /* Start from a non-zero state so both overflow directions are reachable. */
    for (int f = 0; f < AGG_F__N; f++)
        d[f] = (size % 3 == 0) ? INT64_MAX - f : (size % 3 == 1) ? INT64_MIN + f : f;
    memcpy(before, d, sizeof d);
    if (agg_contrib_add(d, &c, +1) != 0) {
        FUZZ_CHECK(memcmp(d, before, sizeof d) == 0);
    } else {
        /* Taking back what was just added always fits: it lands on the start. */
        FUZZ_CHECK(agg_contrib_add(d, &c, -1) == 0);
        FUZZ_CHECK(memcmp(d, before, sizeof d) == 0);
    }
    free(s);
    return 0;
}
