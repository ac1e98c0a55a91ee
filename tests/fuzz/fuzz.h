/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, built and run by `make fuzz`).
 *
 * A harness feeds one input to one parser and then checks what the parser promises
 * (bounds, round trips, agreement with the validator). A broken promise is reported
 * like a sanitizer finding: a message and abort(), which libFuzzer records as a crash
 * with the input that caused it. */
#ifndef AGG_FUZZ_H
#define AGG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/record.h"

#define FUZZ_CHECK(cond)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(fuzz_diag(), "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Where FUZZ_CHECK writes: the real stderr even after fuzz_quiet_stderr(). */
static FILE *fuzz_diag_stream;
static inline FILE *fuzz_diag(void) { return fuzz_diag_stream ? fuzz_diag_stream : stderr; }

/* Code under test that reports every bad row on stderr (the producer's row reader)
 * would spend most of each run writing. Its stderr FILE goes to /dev/null instead;
 * the sanitizers and libFuzzer keep writing to fd 2 (they do not use this FILE), and
 * so does FUZZ_CHECK. */
static inline void fuzz_quiet_stderr(void) {
    fuzz_diag_stream = stderr;
    FILE *null = fopen("/dev/null", "w");
    if (null == NULL) {
        perror("fuzz: /dev/null");
        abort();
    }
    stderr = null;
}

/* A NUL-terminated copy of the input for parsers that take C strings, malloc'd to its
 * exact size so that reading past the NUL is an ASan report. The caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (s == NULL)
        abort(); /* the fuzzer's own memory limit, not a finding about the parser */
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Whether s is NUL-terminated within cap bytes (a fixed array the parser fills). */
static inline int fuzz_terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static inline int fuzz_same_text(const char *a, size_t alen, const char *b, size_t blen) {
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* A record the validator accepted must reach the worker unchanged: encoded as the
 * producer does, decoded as the worker does (into arena, reset afterwards), every
 * field equal and the result still valid. */
static inline void fuzz_check_report_round_trip(const agg_record_t *r, agg_arena_t *arena) {
    uint8_t *wire = NULL;
    long n = agg_encode_report(r, &wire);
    FUZZ_CHECK(n > 0 && wire != NULL);
    agg_msg_t m;
    char err[256];
    FUZZ_CHECK(agg_decode(wire, (size_t)n, arena, &m, err, sizeof err) == 0);
    FUZZ_CHECK(m.kind == AGG_MSG_REPORT);
    const agg_record_t *d = &m.record;
    FUZZ_CHECK(strcmp(d->region, r->region) == 0 && strcmp(d->goal, r->goal) == 0 &&
               strcmp(d->indicator, r->indicator) == 0);
    FUZZ_CHECK(d->year == r->year && d->quarter == r->quarter && d->unit == r->unit);
    FUZZ_CHECK(d->has_baseline == r->has_baseline && d->baseline_x100 == r->baseline_x100);
    FUZZ_CHECK(d->has_target == r->has_target && d->target_x100 == r->target_x100);
    FUZZ_CHECK(d->has_achieved == r->has_achieved && d->achieved_x100 == r->achieved_x100);
    FUZZ_CHECK(d->has_completion == r->has_completion &&
               d->completion_x100 == r->completion_x100);
    FUZZ_CHECK(d->revision == r->revision && d->submitted_ms == r->submitted_ms);
    FUZZ_CHECK(fuzz_same_text(d->title, d->title_len, r->title, r->title_len));
    FUZZ_CHECK(fuzz_same_text(d->report_id, d->report_id_len, r->report_id, r->report_id_len));
    const char *field;
    FUZZ_CHECK(agg_record_validate(d, NULL, &field, err, sizeof err) == 0);
    free(wire);
    agg_arena_reset(arena);
}

#endif
