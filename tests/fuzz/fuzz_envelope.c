/* The worker's view of a message value: agg_decode() of an Envelope (lib/codec.c),
 * then agg_record_validate() of a report, exactly as the batch builder does.
 *
 * The arena is small on purpose, so that decodes both fit it and fall back to malloc
 * (the fallback list and protobuf-c's frees of half-decoded messages get exercised).
 * Promises checked: decoded strings fit their arrays and hold no NUL; a marker that
 * decodes is in range; anything accepted re-encodes to a message that decodes to the
 * same record or marker. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/record.h"
#include "agg/regions.h"
#include "fuzz.h"

static agg_regions_t regions;
static agg_arena_t arena, arena2;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[256];
    if (agg_regions_load_default(&regions, err, sizeof err) != 0 ||
        agg_arena_init(&arena, 256) != 0 || agg_arena_init(&arena2, 1 << 16) != 0) {
        fprintf(stderr, "fuzz_envelope: setup failed\n");
        abort();
    }
    return 0;
}

static void check_report(const agg_record_t *r) {
    FUZZ_CHECK(fuzz_terminated(r->region, sizeof r->region));
    FUZZ_CHECK(fuzz_terminated(r->goal, sizeof r->goal));
    FUZZ_CHECK(fuzz_terminated(r->indicator, sizeof r->indicator));
    FUZZ_CHECK(r->title_len == 0 || (r->title && strlen(r->title) == r->title_len));
    FUZZ_CHECK(r->report_id_len == 0 ||
               (r->report_id && strlen(r->report_id) == r->report_id_len));

    const char *field = NULL;
    char err[256];
    if (agg_record_validate(r, NULL, &field, err, sizeof err) != 0) {
        FUZZ_CHECK(field != NULL && err[0] != '\0' && fuzz_terminated(err, sizeof err));
        return;
    }
    (void)agg_record_validate(r, &regions, &field, err, sizeof err);
    fuzz_check_report_round_trip(r, &arena2);
}

static void check_close(const agg_close_t *c) {
    FUZZ_CHECK(c->year >= AGG_YEAR_MIN && c->year <= AGG_YEAR_MAX);
    FUZZ_CHECK(c->quarter >= 1 && c->quarter <= 4);
    FUZZ_CHECK(c->partitions >= 0 && c->partitions <= 100000);
    FUZZ_CHECK(c->deadline_ms >= 0);
    FUZZ_CHECK(fuzz_terminated(c->requested_by, sizeof c->requested_by));

    uint8_t *wire = NULL;
    long n = agg_encode_close(c, &wire);
    FUZZ_CHECK(n > 0);
    agg_msg_t m;
    char err[256];
    FUZZ_CHECK(agg_decode(wire, (size_t)n, &arena2, &m, err, sizeof err) == 0);
    FUZZ_CHECK(m.kind == AGG_MSG_CLOSE);
    FUZZ_CHECK(m.close.year == c->year && m.close.quarter == c->quarter);
    FUZZ_CHECK(m.close.requested_ms == c->requested_ms);
    FUZZ_CHECK(m.close.partitions == c->partitions && m.close.deadline_ms == c->deadline_ms);
    FUZZ_CHECK(strcmp(m.close.requested_by, c->requested_by) == 0);
    free(wire);
    agg_arena_reset(&arena2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    agg_msg_t m;
    char err[256];
    err[0] = '\0';
    if (agg_decode(data, size, &arena, &m, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0' && fuzz_terminated(err, sizeof err));
    } else if (m.kind == AGG_MSG_REPORT) {
        check_report(&m.record);
    } else {
        FUZZ_CHECK(m.kind == AGG_MSG_CLOSE);
        check_close(&m.close);
    }
    agg_arena_reset(&arena);
    return 0;
}
