/* The wire codec: what a producer encodes is what a worker decodes, field for field;
 * anything else is refused with a reason the DLQ can carry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "report.pb-c.h"
#include "test.h"

static agg_record_t full_record(void) {
    agg_record_t r;
    memset(&r, 0, sizeof r);
    strcpy(r.region, "khuvsgul");
    strcpy(r.goal, "6.1");
    strcpy(r.indicator, "6.1.1#2");
    r.year = 2024;
    r.quarter = 2;
    r.unit = AGG_UNIT_MNT;
    r.has_baseline = r.has_target = r.has_achieved = r.has_completion = true;
    r.baseline_x100 = -125;
    r.target_x100 = 1330138110000LL;
    r.achieved_x100 = 970000000000LL;
    r.completion_x100 = 7580;
    r.revision = 3;
    r.submitted_ms = 1720144800000LL;
    /* Deliberately not NUL-terminated at title_len: the codec must use the length. */
    static const char title[] = "Өр төлбөрийг барагдуулах, хувь (extra)";
    r.title = title;
    r.title_len = strlen(title) - strlen(" (extra)");
    r.report_id = "khuvsgul-2024-H1/ab";
    r.report_id_len = 16;
    return r;
}

static void test_round_trip_all_fields(void) {
    agg_record_t in = full_record();
    uint8_t *buf = NULL;
    long len = agg_encode_report(&in, &buf);
    CHECK(len > 0);
    CHECK(buf != NULL);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 4096) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK(m.kind == AGG_MSG_REPORT);
    const agg_record_t *r = &m.record;
    CHECK_STR(r->region, "khuvsgul");
    CHECK_STR(r->goal, "6.1");
    CHECK_STR(r->indicator, "6.1.1#2");
    CHECK_I64(r->year, 2024);
    CHECK_I64(r->quarter, 2);
    CHECK(r->unit == AGG_UNIT_MNT);
    CHECK(r->has_baseline && r->has_target && r->has_achieved && r->has_completion);
    CHECK_I64(r->baseline_x100, -125);
    CHECK_I64(r->target_x100, 1330138110000LL);
    CHECK_I64(r->achieved_x100, 970000000000LL);
    CHECK_I64(r->completion_x100, 7580);
    CHECK_I64(r->revision, 3);
    CHECK_I64(r->submitted_ms, 1720144800000LL);
    CHECK_I64(r->title_len, in.title_len);
    CHECK(r->title != NULL && memcmp(r->title, in.title, in.title_len) == 0);
    CHECK_I64(r->report_id_len, 16);
    CHECK(r->report_id != NULL && memcmp(r->report_id, "khuvsgul-2024-H1", 16) == 0);
    CHECK_I64(arena.fallback_allocs, 0);
    CHECK(arena.used > 0);

    agg_arena_reset(&arena);
    CHECK_I64(arena.used, 0);
    agg_arena_free(&arena);
    free(buf);
}

static void test_round_trip_absent_optionals(void) {
    agg_record_t in;
    memset(&in, 0, sizeof in);
    strcpy(in.region, "darkhan-uul");
    strcpy(in.goal, "3");
    strcpy(in.indicator, "3.2.1");
    in.year = 2024;
    in.quarter = 4;
    in.unit = AGG_UNIT_COUNT;
    in.revision = 1;
    uint8_t *buf = NULL;
    long len = agg_encode_report(&in, &buf);
    CHECK(len > 0);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
    const agg_record_t *r = &m.record;
    CHECK(m.kind == AGG_MSG_REPORT);
    CHECK(!r->has_baseline && !r->has_target && !r->has_achieved && !r->has_completion);
    CHECK(r->title == NULL && r->title_len == 0);
    CHECK(r->report_id == NULL && r->report_id_len == 0);
    CHECK_I64(r->submitted_ms, 0);
    CHECK_I64(r->revision, 1);
    CHECK(r->unit == AGG_UNIT_COUNT);
    agg_arena_free(&arena);
    free(buf);
}

/* A district's own producer may leave unit and revision out: the schema defaults
 * apply (count, revision 1). */
static void test_schema_defaults_when_fields_missing(void) {
    Agg__V1__Report rep = AGG__V1__REPORT__INIT;
    rep.region = "orkhon";
    rep.year = 2025;
    rep.quarter = 1;
    rep.goal = "7";
    rep.indicator = "7.1";
    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT; /* schema_version not written */
    env.body_case = AGG__V1__ENVELOPE__BODY_REPORT;
    env.report = &rep;
    uint8_t buf[256];
    size_t len = agg__v1__envelope__pack(&env, buf);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK_I64(m.record.revision, 1);
    CHECK(m.record.unit == AGG_UNIT_COUNT);
    CHECK_STR(m.record.region, "orkhon");
    agg_arena_free(&arena);
}

static void test_close_marker(void) {
    uint8_t *buf = NULL;
    agg_close_t c = {.year = 2024, .quarter = 2, .requested_ms = 1720569600000LL,
                     .partitions = 6, .deadline_ms = 1720540800000LL,
                     .requested_by = "operator"};
    long len = agg_encode_close(&c, &buf);
    CHECK(len > 0);
    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
    CHECK(m.kind == AGG_MSG_CLOSE);
    CHECK_I64(m.close.year, 2024);
    CHECK_I64(m.close.quarter, 2);
    CHECK_I64(m.close.requested_ms, 1720569600000LL);
    CHECK_I64(m.close.partitions, 6);
    CHECK_I64(m.close.deadline_ms, 1720540800000LL);
    CHECK_STR(m.close.requested_by, "operator");
    free(buf);

    /* requested_by is optional; so are the v2 fields (a marker written before v2) */
    agg_close_t old = {.year = 2025, .quarter = 4};
    len = agg_encode_close(&old, &buf);
    CHECK(len > 0);
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
    CHECK(m.kind == AGG_MSG_CLOSE);
    CHECK_I64(m.close.quarter, 4);
    CHECK_I64(m.close.requested_ms, 0);
    CHECK_I64(m.close.partitions, 0);
    CHECK_I64(m.close.deadline_ms, 0);
    CHECK_STR(m.close.requested_by, "");
    free(buf);

    /* a marker for a quarter that cannot exist is refused */
    agg_close_t bad = {.year = 2024, .quarter = 5};
    len = agg_encode_close(&bad, &buf);
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "close marker: quarter 5 out of range");
    free(buf);
    agg_arena_free(&arena);
}

static void test_garbage_is_undecodable(void) {
    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    CHECK(agg_decode(garbage, sizeof garbage, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "undecodable: not a valid protobuf Envelope");

    /* A report without its required fields (only year = 2024 inside field 2). */
    static const uint8_t no_region[] = {0x12, 0x03, 0x10, 0xE8, 0x0F};
    err[0] = '\0';
    CHECK(agg_decode(no_region, sizeof no_region, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "undecodable: not a valid protobuf Envelope");

    /* A valid message cut short. */
    agg_record_t in = full_record();
    uint8_t *buf = NULL;
    long len = agg_encode_report(&in, &buf);
    CHECK(len > 10);
    CHECK(agg_decode(buf, (size_t)len - 3, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "undecodable: not a valid protobuf Envelope");
    free(buf);

    /* The empty value decodes as an envelope with no body. */
    CHECK(agg_decode("", 0, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "envelope has no report and no close marker");
    agg_arena_free(&arena);
}

static void test_wrong_schema_version(void) {
    Agg__V1__QuarterClose cl = AGG__V1__QUARTER_CLOSE__INIT;
    cl.year = 2024;
    cl.quarter = 2;
    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
    env.has_schema_version = 1;
    env.schema_version = 7;
    env.body_case = AGG__V1__ENVELOPE__BODY_CLOSE;
    env.close = &cl;
    uint8_t buf[64];
    size_t len = agg__v1__envelope__pack(&env, buf);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "unsupported schema_version 7");
    agg_arena_free(&arena);
}

static void test_field_limits(void) {
    Agg__V1__Report rep = AGG__V1__REPORT__INIT;
    rep.region = "khuvsgul";
    rep.year = 2024;
    rep.quarter = 2;
    rep.goal = "0123456789012345678901234567890123456789"; /* 40 bytes */
    rep.indicator = "1.1";
    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
    env.body_case = AGG__V1__ENVELOPE__BODY_REPORT;
    env.report = &rep;
    uint8_t buf[512];
    size_t len = agg__v1__envelope__pack(&env, buf);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 1024) == 0);
    agg_msg_t m;
    char err[256] = "";
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "field too long: goal (40 bytes, max 32)");

    /* exactly at the limit is fine (the validator judges the characters) */
    rep.goal = "01234567890123456789012345678901";
    len = agg__v1__envelope__pack(&env, buf);
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == 0);
    CHECK_I64(strlen(m.record.goal), 32);

    rep.goal = "1";
    rep.has_unit = 1;
    rep.unit = (Agg__V1__Unit)9;
    len = agg__v1__envelope__pack(&env, buf);
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "unsupported unit 9");

    rep.unit = AGG__V1__UNIT__UNIT_PCT;
    rep.has_revision = 1;
    rep.revision = 3000000000u;
    len = agg__v1__envelope__pack(&env, buf);
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == -1);
    CHECK_STR(err, "field out of range: revision (3000000000)");

    /* revision 0 decodes; agg_record_validate() is the one to refuse it */
    rep.revision = 0;
    len = agg__v1__envelope__pack(&env, buf);
    CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == 0);
    CHECK_I64(m.record.revision, 0);
    CHECK(m.record.unit == AGG_UNIT_PCT);
    agg_arena_free(&arena);
}

/* An arena too small for a message still decodes it, through malloc; reset frees
 * those blocks (ASan's leak check would catch it otherwise) and failed decodes that
 * freed half a message through the allocator must not corrupt the list. */
static void test_arena_fallback(void) {
    agg_record_t in = full_record();
    char long_title[3000];
    memset(long_title, 'a', sizeof long_title);
    in.title = long_title;
    in.title_len = sizeof long_title;
    uint8_t *buf = NULL;
    long len = agg_encode_report(&in, &buf);
    CHECK(len > 3000);

    agg_arena_t arena;
    CHECK(agg_arena_init(&arena, 64) == 0);
    agg_msg_t m;
    char err[256] = "";
    for (int round = 0; round < 3; round++) {
        CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
        CHECK_I64(m.record.title_len, sizeof long_title);
        CHECK(m.record.title[0] == 'a' && m.record.title[sizeof long_title - 1] == 'a');
        CHECK_STR(m.record.region, "khuvsgul");
        /* two decodes before a reset: both stay valid */
        agg_msg_t m2;
        CHECK(agg_decode(buf, (size_t)len, &arena, &m2, err, sizeof err) == 0);
        CHECK(m.record.title != m2.record.title);
        CHECK(memcmp(m.record.title, m2.record.title, sizeof long_title) == 0);
        /* truncated: protobuf-c frees what it had built, some of it malloc'd */
        CHECK(agg_decode(buf, (size_t)len - 1, &arena, &m2, err, sizeof err) == -1);
        agg_arena_reset(&arena);
    }
    CHECK(arena.fallback_allocs >= 6);
    CHECK(arena.used <= arena.size);
    agg_arena_free(&arena);

    /* An arena of size 0 is all fallback. */
    CHECK(agg_arena_init(&arena, 0) == 0);
    CHECK(agg_decode(buf, (size_t)len, &arena, &m, err, sizeof err) == 0);
    CHECK_I64(arena.fallback_allocs, 1);
    CHECK_STR(m.record.indicator, "6.1.1#2");
    agg_arena_free(&arena); /* without reset: free must release fallbacks too */
    free(buf);
}

/* protobuf-c would cut a string at an embedded NUL; the decoder must refuse it instead,
 * naming the field (in the report and in a nested message alike). */
static void test_nul_inside_a_string_is_refused(void) {
    static const struct {
        const char *field, *marker;
    } cases[] = {{"indicator", "7.1X"}, {"region", "orkhXn"}, {"title", "TitleX"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Agg__V1__Report rep = AGG__V1__REPORT__INIT;
        rep.region = "orkhon";
        rep.year = 2025;
        rep.quarter = 1;
        rep.goal = "7";
        rep.indicator = "7.1";
        if (strcmp(cases[c].field, "indicator") == 0)
            rep.indicator = (char *)cases[c].marker;
        else if (strcmp(cases[c].field, "region") == 0)
            rep.region = (char *)cases[c].marker;
        else
            rep.title = (char *)cases[c].marker;
        Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
        env.body_case = AGG__V1__ENVELOPE__BODY_REPORT;
        env.report = &rep;
        uint8_t buf[256];
        size_t len = agg__v1__envelope__pack(&env, buf);
        size_t mlen = strlen(cases[c].marker);
        uint8_t *at = memmem(buf, len, cases[c].marker, mlen);
        CHECK(at != NULL);
        if (!at)
            continue;
        at[strchr(cases[c].marker, 'X') - cases[c].marker] = '\0';

        agg_arena_t arena;
        CHECK(agg_arena_init(&arena, 1024) == 0);
        agg_msg_t m;
        char err[256] = "", want[128];
        snprintf(want, sizeof want, "invalid field %s: NUL byte in the text", cases[c].field);
        CHECK(agg_decode(buf, len, &arena, &m, err, sizeof err) == -1);
        CHECK_STR(err, want);
        agg_arena_free(&arena);
    }
}

TEST_MAIN(TEST(test_round_trip_all_fields), TEST(test_nul_inside_a_string_is_refused), TEST(test_round_trip_absent_optionals),
          TEST(test_schema_defaults_when_fields_missing), TEST(test_close_marker),
          TEST(test_garbage_is_undecodable), TEST(test_wrong_schema_version),
          TEST(test_field_limits), TEST(test_arena_fallback))
