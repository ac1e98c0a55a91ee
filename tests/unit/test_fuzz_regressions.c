/* Inputs the fuzzers (tests/fuzz/, docs/FUZZING.md) found to break a parser's promise,
 * each kept as the smallest crashing input libFuzzer reduced it to, plus the
 * realistic form it takes. A case names the harness that found it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg/codec.h"
#include "agg/config.h"
#include "agg/contrib.h"
#include "agg/deadline.h"
#include "agg/summary.h"
#include "test.h"

static char err[512];
static agg_kprops_t props; /* 80 KiB: static */

#define LIT(s) s, sizeof(s) - 1

/* fuzz_kprops: a NUL byte inside a properties line. The parser stored the bytes, and
 * librdkafka, which takes C strings, would have seen the key cut at the NUL:
 * "security.protocol \0...sl.mechanisms" became "security.protocol " (with a blank)
 * and "\0=" an empty name -- neither what the file says. Refused with its line. */
static void kprops_nul_byte_is_refused(void) {
    memset(&props, 0, sizeof props);
    CHECK(agg_kprops_load_text(&props, LIT("\0="), "f.properties", err, sizeof err) == -1);
    CHECK_STR(err, "f.properties:1: NUL byte in the line");
    CHECK_I64(props.count, 0);

    static const char cut[] = "a=1\n  security.protocol \0\0sl.mechanisms=256\n";
    memset(&props, 0, sizeof props);
    CHECK(agg_kprops_load_text(&props, cut, sizeof cut - 1, "f.properties", err,
                               sizeof err) == -1);
    CHECK_STR(err, "f.properties:2: NUL byte in the line");

    /* The file entry point shares the reader. */
    char path[] = "/tmp/agg-fuzz-regress-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, cut, sizeof cut - 1) == (ssize_t)(sizeof cut - 1));
    CHECK(close(fd) == 0);
    memset(&props, 0, sizeof props);
    CHECK(agg_kprops_load_file(&props, path, err, sizeof err) == -1);
    char want[128];
    snprintf(want, sizeof want, "%s:2: NUL byte in the line", path);
    CHECK_STR(err, want);
    CHECK(unlink(path) == 0);

    /* NUL-free text around it still loads (and a comment is no exception). */
    memset(&props, 0, sizeof props);
    CHECK(agg_kprops_load_text(&props, LIT("# c\nk = v\n"), "f", err, sizeof err) == 0);
    CHECK_I64(props.count, 1);
    CHECK(agg_kprops_load_text(&props, LIT("# c\0\n"), "f", err, sizeof err) == -1);
}

/* fuzz_contrib: a stored state whose goal holds NUL bytes ("2|2||||\0") parsed, with
 * goal "" as a C string: taking that contribution back would have hit a scope of goal
 * "" instead of refusing a state no worker writes. The goal must now be a goal code
 * (agg_check_goal), as every stored one is. */
static void contrib_state_goal_must_be_a_goal_code(void) {
    agg_contrib_t c;
    CHECK(agg_contrib_parse(LIT("2|2||||\0"), &c) == -1);
    CHECK(agg_contrib_parse(LIT("3|0|7580|10000|7580|6.1\0x"), &c) == -1);
    CHECK(agg_contrib_parse(LIT("1|0||||6 1"), &c) == -1);
    CHECK(agg_contrib_parse(LIT("1|0||||6.1\n"), &c) == -1);
    CHECK(agg_contrib_parse(LIT("3|0|7580|10000|7580|6.1"), &c) == 0);
    CHECK_STR(c.goal, "6.1");
    CHECK(agg_contrib_parse(LIT("1|0||||A-z_0.9"), &c) == 0);
}

/* fuzz_deadline: an explicit deadline before 1970 ("2024-Q2=0224-10-10T00:00:00Z")
 * was accepted. agg-produce --close writes it into the markers, and every worker's
 * agg_decode refuses a marker with deadline_ms <= 0: the markers went to the DLQ and
 * the quarter never closed. Exactly 1970-01-01T00:00:00Z (0) is refused too: 0 in a
 * marker means "no deadline" and the worker would use the rule instead. */
static void deadline_must_be_after_the_epoch(void) {
    agg_deadlines_t d;
    CHECK(agg_deadlines_init(&d, 10, "2024-Q2=0224-10-10T00:00:00Z", err, sizeof err) == -1);
    CHECK_STR(err, "deadline of 2024-Q2: must be after 1970-01-01T00:00:00Z");
    CHECK(agg_deadlines_init(&d, 10, "2024-Q2=1970-01-01T00:00:00Z", err, sizeof err) == -1);
    CHECK(agg_deadlines_init(&d, 10, "2024-Q3=1970-01-01T08:00:00+08:00", err, sizeof err) ==
          -1);
    CHECK(agg_deadlines_init(&d, 10, "2024-Q2=1970-01-01T00:00:00.001Z", err, sizeof err) == 0);
    CHECK_I64(agg_deadline_ms(&d, 2024, 2), 1);

    /* Whatever is accepted travels in a marker and is read back unchanged. */
    agg_close_t c = {.year = 2024, .quarter = 2, .deadline_ms = agg_deadline_ms(&d, 2024, 2)};
    uint8_t *wire = NULL;
    long n = agg_encode_close(&c, &wire);
    CHECK(n > 0);
    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    CHECK(agg_decode(wire, (size_t)n, &arena, &m, err, sizeof err) == 0);
    CHECK_I64(m.close.deadline_ms, 1);
    free(wire);
    agg_arena_free(&arena);
}

/* fuzz_summary_json: a Summary whose id is not UTF-8 (id "\xff", quarter "", scope "",
 * revision 32) came out as JSON without "id": jansson refuses such a string and the
 * object silently lacked the key. agg-summaries --json printed it; now the message is
 * refused like any undecodable one, naming the field. */
static void summary_with_invalid_utf8_is_refused(void) {
    static const uint8_t bad_id[] = {0x0a, 0x01, 0xff, 0x12, 0x00, 0x1a, 0x00, 0x20, 0x20};
    char id[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1];
    uint32_t rev = 0;
    err[0] = '\0';
    char *json = agg_summary_to_json(bad_id, sizeof bad_id, id, scope, &rev, err, sizeof err);
    CHECK(json == NULL);
    CHECK_STR(err, "Summary message: id is not valid UTF-8");
    free(json);

    /* The same message with id "x" is read, and the JSON has its id. */
    static const uint8_t good[] = {0x0a, 0x01, 'x', 0x12, 0x00, 0x1a, 0x00, 0x20, 0x20};
    json = agg_summary_to_json(good, sizeof good, id, scope, &rev, err, sizeof err);
    CHECK(json != NULL);
    CHECK(json && strstr(json, "\"id\":\"x\"") != NULL);
    CHECK_STR(id, "x");
    CHECK_I64(rev, 32);
    free(json);

    /* A bad byte deeper down, in a region list, is named too. From the outbox entry
     * {"id":"a","quarter":"q","revision":"1","regions_missing":"r"}, "r" -> "\xc0". */
    uint8_t *wire = NULL;
    char q[16];
    static const char entry[] =
        "{\"id\":\"a\",\"quarter\":\"q\",\"revision\":\"1\",\"regions_missing\":\"r\"}";
    long n = agg_summary_from_outbox(entry, sizeof entry - 1, &wire, id, q, err, sizeof err);
    CHECK(n > 0);
    if (n <= 0)
        return;
    uint8_t *r = memchr(wire, 'r', (size_t)n);
    CHECK(r != NULL);
    if (r)
        *r = 0xc0;
    CHECK(agg_summary_to_json(wire, (size_t)n, id, scope, &rev, err, sizeof err) == NULL);
    CHECK_STR(err, "Summary message: regions_missing is not valid UTF-8");
    free(wire);
}

/* fuzz_summary_outbox: an outbox entry whose region list holds a DEL byte (0x7f) became
 * a Summary that agg_summary_to_json then refused (control characters are not text):
 * what would be sent could not be read back. The entry is refused now, before sending. */
static void outbox_entry_must_read_back(void) {
    static const char entry[] = "{\"id\":\"2024-Q2/total/1\",\"quarter\":\"2024-Q2\","
                                "\"revision\":\"1\",\"regions_late\":\"k\x7fuvsgul\"}";
    uint8_t *wire = (uint8_t *)"";
    char id[AGG_SUMMARY_ID_MAX + 1], q[16];
    err[0] = '\0';
    long n = agg_summary_from_outbox(entry, sizeof entry - 1, &wire, id, q, err, sizeof err);
    CHECK(n == -1 && wire == NULL);
    CHECK_STR(err, "outbox entry 2024-Q2/total/1: Summary message: regions_late is not valid UTF-8");
}

TEST_MAIN(TEST(kprops_nul_byte_is_refused), TEST(contrib_state_goal_must_be_a_goal_code),
          TEST(deadline_must_be_after_the_epoch), TEST(summary_with_invalid_utf8_is_refused),
          TEST(outbox_entry_must_read_back))
