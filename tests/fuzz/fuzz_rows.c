/* The producer's CSV rules end to end: prod_rows_read() (producer/rows.c) on one input
 * file -- header mapping, per-column parsers, the validator, duplicate detection and
 * topic assignment. It reads from a path, so the input goes into a memfd and the
 * reader opens /proc/self/fd/N: no temporary file, no disk writes per run.
 *
 * Promise checked: every row it keeps passes agg_record_validate against the same
 * reference list, belongs to the topic it is counted in, and no two kept rows share
 * region, quarter, indicator and revision. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "produce.h" /* -Iproducer: the harness links producer/rows.o */
#include "agg/period.h"
#include "fuzz.h"

static agg_regions_t regions;
static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[256];
    if (agg_regions_load_default(&regions, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_rows: reference list: %s\n", err);
        abort();
    }
    memfd = memfd_create("fuzz_rows", 0);
    if (memfd < 0) {
        perror("fuzz_rows: memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    fuzz_quiet_stderr(); /* every bad row is reported there */
    return 0;
}

static void write_input(const uint8_t *data, size_t size) {
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(memfd, data + done, size - done, (off_t)done);
        FUZZ_CHECK(n > 0);
        done += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_input(data, size);
    prod_rows_t rows;
    memset(&rows, 0, sizeof rows);
    prod_read_opts_t o = {
        .topic_prefix = "reports.", .regions = &regions, .default_submitted_ms = 1};
    FUZZ_CHECK(prod_rows_read(&rows, path, &o) == 0);

    size_t per_topic = 0;
    for (size_t t = 0; t < rows.ntopics; t++)
        per_topic += rows.topic[t].rows;
    FUZZ_CHECK(per_topic == rows.count);
    for (size_t i = 0; i < rows.count; i++) {
        const agg_record_t *r = &rows.row[i].rec;
        const char *field;
        char err[256];
        FUZZ_CHECK(agg_record_validate(r, &regions, &field, err, sizeof err) == 0);
        char want[sizeof rows.topic[0].name], q[AGG_QUARTER_ID_LEN + 1];
        FUZZ_CHECK(agg_quarter_format(r->year, r->quarter, q, sizeof q) == 0);
        snprintf(want, sizeof want, "reports.%s", q);
        FUZZ_CHECK(rows.row[i].msg.topic < rows.ntopics);
        FUZZ_CHECK(strcmp(rows.topic[rows.row[i].msg.topic].name, want) == 0);
        /* Quadratic, but the fuzzer's inputs hold few valid rows. */
        for (size_t j = 0; j < i; j++) {
            const agg_record_t *o2 = &rows.row[j].rec;
            FUZZ_CHECK(!(o2->year == r->year && o2->quarter == r->quarter &&
                         o2->revision == r->revision && strcmp(o2->region, r->region) == 0 &&
                         strcmp(o2->indicator, r->indicator) == 0));
        }
    }
    prod_rows_free(&rows);
    return 0;
}
