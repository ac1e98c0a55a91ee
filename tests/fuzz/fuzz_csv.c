/* The CSV reader (lib/csv.c), then the row rules on what it yields.
 *
 * The producer's own row rules (header mapping, duplicates) live in producer/rows.c and
 * have their own harness (fuzz_rows.c). Here every row is read positionally in the
 * canonical column order, each field through the shared field parser, and a record
 * that passes agg_record_validate must survive encode -> decode unchanged: the worker
 * sees exactly what the producer validated. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/csv.h"
#include "agg/record.h"
#include "agg/regions.h"
#include "fuzz.h"

static agg_csv_t csv; /* 64 KiB: one static reader */
static agg_regions_t regions;
static agg_arena_t arena;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[256];
    if (agg_regions_load_default(&regions, err, sizeof err) != 0 ||
        agg_arena_init(&arena, 1 << 16) != 0) {
        fprintf(stderr, "fuzz_csv: setup failed: %s\n", err);
        abort();
    }
    return 0;
}

/* Invariants of one row as agg_csv_next() returned it. */
static void check_row(void) {
    FUZZ_CHECK(csv.nfields >= 1 && csv.nfields <= AGG_CSV_FIELDS_MAX);
    FUZZ_CHECK(csv.line >= 1 && csv.line <= csv.next_line);
    size_t total = 0;
    for (size_t f = 0; f < csv.nfields; f++) {
        const char *s = csv.field[f];
        size_t len = csv.field_len[f];
        FUZZ_CHECK(s >= csv.buf && s + len < csv.buf + sizeof csv.buf);
        FUZZ_CHECK(s[len] == '\0');
        total += len + 1;
    }
    FUZZ_CHECK(total <= sizeof csv.buf);
}

/* Fills r from the fields in SPEC column order; returns whether every field parsed. */
static bool row_to_record(agg_record_t *r) {
    char err[256];
    long v;
    bool ok = true;
    memset(r, 0, sizeof *r);
    r->unit = AGG_UNIT_COUNT;
    r->revision = 1;
    for (size_t f = 0; f < csv.nfields && f < 14; f++) {
        const char *s = csv.field[f];
        size_t len = csv.field_len[f];
        int rc = 0;
        if (len == 0)
            continue;
        switch (f) {
        case 0:
            if ((rc = agg_check_region(s, len, err, sizeof err)) == 0)
                memcpy(r->region, s, len + 1);
            break;
        case 1:
            rc = agg_parse_int_range(s, len, AGG_YEAR_MIN, AGG_YEAR_MAX, &v, err, sizeof err);
            r->year = rc == 0 ? (int)v : 0;
            break;
        case 2:
            rc = agg_parse_int_range(s, len, 1, 4, &v, err, sizeof err);
            r->quarter = rc == 0 ? (int)v : 0;
            break;
        case 3:
            if ((rc = agg_check_goal(s, len, err, sizeof err)) == 0)
                memcpy(r->goal, s, len + 1);
            break;
        case 4:
            if ((rc = agg_check_indicator(s, len, err, sizeof err)) == 0)
                memcpy(r->indicator, s, len + 1);
            break;
        case 5:
            r->title = s;
            r->title_len = len;
            break;
        case 6:
            rc = agg_unit_parse(s, len, &r->unit);
            break;
        case 7:
            rc = agg_parse_decimal_x100(s, len, &r->baseline_x100, err, sizeof err);
            r->has_baseline = true;
            break;
        case 8:
            rc = agg_parse_decimal_x100(s, len, &r->target_x100, err, sizeof err);
            r->has_target = true;
            break;
        case 9:
            rc = agg_parse_decimal_x100(s, len, &r->achieved_x100, err, sizeof err);
            r->has_achieved = true;
            break;
        case 10:
            rc = agg_parse_completion_x100(s, len, &r->completion_x100, err, sizeof err);
            r->has_completion = true;
            break;
        case 11:
            rc = agg_parse_int_range(s, len, 1, AGG_REVISION_MAX, &v, err, sizeof err);
            r->revision = rc == 0 ? (int32_t)v : 1;
            break;
        case 12:
            rc = agg_parse_rfc3339_ms(s, len, &r->submitted_ms, err, sizeof err);
            break;
        case 13:
            r->report_id = s;
            r->report_id_len = len;
            break;
        }
        if (rc != 0) {
            /* Parsers promise a one-line reason that fits errstr. */
            FUZZ_CHECK(f == 6 || (err[0] != '\0' && fuzz_terminated(err, sizeof err)));
            ok = false;
        }
    }
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0; /* fmemopen may refuse an empty buffer; the empty file is a unit test */
    FILE *in = fmemopen((void *)data, size, "rb");
    FUZZ_CHECK(in != NULL);
    agg_csv_init(&csv, in);
    char err[256];
    int rc;
    /* Every call consumes at least one byte or ends the input, so more calls than
     * bytes means the reader is stuck. */
    size_t calls = 0;
    long last_line = 0;
    while ((rc = agg_csv_next(&csv, err, sizeof err)) != 0) {
        FUZZ_CHECK(++calls <= size + 1);
        FUZZ_CHECK(csv.line > last_line); /* rows come in line order, none twice */
        last_line = csv.line;
        if (rc < 0) {
            FUZZ_CHECK(rc == -1 && err[0] != '\0' && fuzz_terminated(err, sizeof err));
            continue;
        }
        FUZZ_CHECK(rc == 1);
        check_row();
        agg_record_t r;
        const char *field = NULL;
        if (!row_to_record(&r))
            continue;
        /* Both the reference-list and the no-list variant (--no-region-check). */
        if (agg_record_validate(&r, NULL, &field, err, sizeof err) != 0) {
            FUZZ_CHECK(field != NULL && err[0] != '\0');
            continue;
        }
        FUZZ_CHECK(field == NULL);
        if (agg_record_validate(&r, &regions, &field, err, sizeof err) == 0)
            fuzz_check_report_round_trip(&r, &arena);
    }
    FUZZ_CHECK(fclose(in) == 0);
    return 0;
}
