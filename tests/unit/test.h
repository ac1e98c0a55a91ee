/* Minimal unit-test harness: CHECK() records a failure with file:line and goes on;
 * TEST_MAIN() runs the listed cases and ends with "N passed, N failed" (tests/run.sh
 * adds these up). Exit status is non-zero on any failure. */
#ifndef AGG_TEST_H
#define AGG_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_checks_failed_in_case;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            test_checks_failed_in_case++;                                              \
        }                                                                              \
    } while (0)

#define CHECK_STR(got, want)                                                           \
    do {                                                                               \
        const char *g_ = (got), *w_ = (want);                                          \
        if (strcmp(g_, w_) != 0) {                                                     \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, g_, \
                    w_);                                                               \
            test_checks_failed_in_case++;                                              \
        }                                                                              \
    } while (0)

#define CHECK_I64(got, want)                                                           \
    do {                                                                               \
        int64_t g_ = (int64_t)(got), w_ = (int64_t)(want);                             \
        if (g_ != w_) {                                                                \
            fprintf(stderr, "%s:%d: %s = %" PRId64 ", want %" PRId64 "\n", __FILE__,    \
                    __LINE__, #got, g_, w_);                                           \
            test_checks_failed_in_case++;                                              \
        }                                                                              \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case_t;

#define TEST_MAIN(...)                                                                 \
    int main(void) {                                                                   \
        static const test_case_t cases[] = {__VA_ARGS__};                              \
        int passed = 0, failed = 0;                                                    \
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {                  \
            test_checks_failed_in_case = 0;                                            \
            cases[i].fn();                                                             \
            if (test_checks_failed_in_case) {                                          \
                failed++;                                                              \
                fprintf(stderr, "FAIL %s\n", cases[i].name);                           \
            } else {                                                                   \
                passed++;                                                              \
            }                                                                          \
        }                                                                              \
        printf("%d passed, %d failed\n", passed, failed);                              \
        return failed ? 1 : 0;                                                         \
    }
#define TEST(fn) {#fn, fn}

#endif
