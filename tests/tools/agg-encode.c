/* agg-encode: writes ONE raw Envelope (proto/report.proto) to stdout or -o FILE, with
 * no validation at all, so integration tests can put exactly the bytes they need on a
 * topic -- including ones the producer would refuse:
 *
 *   agg-encode region=khuvsgul indicator=3.1 completion=7580 -o msg.bin
 *   agg-encode goal=0123456789012345678901234567890123456789 -o long-goal.bin
 *   agg-encode --close 2024 2 -o close.bin
 *   agg-encode --garbage -o junk.bin
 *   kcat -P -b "$AGG_KAFKA_BOOTSTRAP" -t reports.2024-Q2 -k khuvsgul msg.bin
 *     (kcat -P with file arguments sends each file as one message, bytes intact)
 *
 * Fields (numbers are the raw wire values; quantities are x100 integers):
 *   region= year= quarter= goal= indicator=   required; default khuvsgul 2024 2 3 3.1
 *   title= unit= (0..4 or count|person|mnt|pct|text; any integer is written as given)
 *   baseline= target= achieved= completion= revision= submitted_ms= report_id=
 *   schema_version=   (any value; left out of the message unless given)
 *   requested_ms= by= partitions= (with --close)
 * Modes: --close YEAR QUARTER, --garbage (bytes that are no protobuf), --no-body
 * (an Envelope with neither report nor close). Exit 0, or 2 on a bad argument. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/record.h"
#include "report.pb-c.h"

static int usage(const char *msg) {
    fprintf(
        stderr,
        "agg-encode: %s\n"
        "usage: agg-encode [-o FILE] [field=value...]\n"
        "       agg-encode [-o FILE] --close YEAR QUARTER [requested_ms=N] [by=NAME] [partitions=N]\n"
        "       agg-encode [-o FILE] --garbage | --no-body\n"
        "fields: region year quarter goal indicator title unit baseline target achieved\n"
        "        completion revision submitted_ms report_id schema_version\n",
        msg);
    return 2;
}

static int bad_arg(const char *arg) {
    char msg[300];
    snprintf(msg, sizeof msg, "unknown field or bad value \"%.200s\"", arg);
    return usage(msg);
}

/* Whole-string integer in [min, max]; returns 0 or -1. */
static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (s[0] == '\0')
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int write_all(const char *path, const uint8_t *buf, size_t len) {
    FILE *out = stdout;
    if (path != NULL) {
        out = fopen(path, "wb");
        if (out == NULL) {
            fprintf(stderr, "agg-encode: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    int rc = 0;
    if (len > 0 && fwrite(buf, 1, len, out) != len)
        rc = 1;
    if (fflush(out) != 0)
        rc = 1;
    if (path != NULL && fclose(out) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "agg-encode: write failed: %s\n", strerror(errno));
    return rc;
}

int main(int argc, char **argv) {
    const char *out_path = NULL;
    enum { MODE_REPORT, MODE_CLOSE, MODE_GARBAGE, MODE_NO_BODY } mode = MODE_REPORT;
    Agg__V1__Report rep = AGG__V1__REPORT__INIT;
    Agg__V1__QuarterClose cl = AGG__V1__QUARTER_CLOSE__INIT;
    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
    /* Defaults for the required fields so a test names only what it varies. */
    rep.region = "khuvsgul";
    rep.year = 2024;
    rep.quarter = 2;
    rep.goal = "3";
    rep.indicator = "3.1";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0) {
            if (++i >= argc)
                return usage("-o needs a file");
            out_path = argv[i];
            continue;
        }
        if (strcmp(a, "--garbage") == 0) {
            mode = MODE_GARBAGE;
            continue;
        }
        if (strcmp(a, "--no-body") == 0) {
            mode = MODE_NO_BODY;
            continue;
        }
        if (strcmp(a, "--close") == 0) {
            int64_t y, q;
            if (i + 2 >= argc || parse_i64(argv[i + 1], 0, UINT32_MAX, &y) ||
                parse_i64(argv[i + 2], 0, UINT32_MAX, &q))
                return usage("--close needs YEAR QUARTER");
            cl.year = (uint32_t)y;
            cl.quarter = (uint32_t)q;
            mode = MODE_CLOSE;
            i += 2;
            continue;
        }
        const char *eq = strchr(a, '=');
        if (eq == NULL)
            return usage("expected field=value");
        size_t klen = (size_t)(eq - a);
        const char *v = eq + 1;
        int64_t n = 0;
#define KEY(name) (klen == strlen(name) && memcmp(a, name, klen) == 0)
#define NUM(min, max)                                                                      \
    do {                                                                                   \
        if (parse_i64(v, (min), (max), &n))                                                \
            return bad_arg(a);                                                             \
    } while (0)
        if (KEY("region")) {
            rep.region = (char *)v;
        } else if (KEY("goal")) {
            rep.goal = (char *)v;
        } else if (KEY("indicator")) {
            rep.indicator = (char *)v;
        } else if (KEY("title")) {
            rep.title = (char *)v;
        } else if (KEY("report_id")) {
            rep.report_id = (char *)v;
        } else if (KEY("by")) {
            cl.requested_by = (char *)v;
        } else if (KEY("year")) {
            NUM(0, UINT32_MAX);
            rep.year = (uint32_t)n;
        } else if (KEY("quarter")) {
            NUM(0, UINT32_MAX);
            rep.quarter = (uint32_t)n;
        } else if (KEY("unit")) {
            agg_unit_t u;
            if (agg_unit_parse(v, strlen(v), &u) == 0)
                n = u;
            else
                NUM(INT32_MIN, INT32_MAX);
            rep.has_unit = 1;
            rep.unit = (Agg__V1__Unit)n;
        } else if (KEY("baseline")) {
            NUM(INT64_MIN, INT64_MAX);
            rep.has_baseline_x100 = 1;
            rep.baseline_x100 = n;
        } else if (KEY("target")) {
            NUM(INT64_MIN, INT64_MAX);
            rep.has_target_x100 = 1;
            rep.target_x100 = n;
        } else if (KEY("achieved")) {
            NUM(INT64_MIN, INT64_MAX);
            rep.has_achieved_x100 = 1;
            rep.achieved_x100 = n;
        } else if (KEY("completion")) {
            NUM(0, UINT32_MAX);
            rep.has_completion_x100 = 1;
            rep.completion_x100 = (uint32_t)n;
        } else if (KEY("revision")) {
            NUM(0, UINT32_MAX);
            rep.has_revision = 1;
            rep.revision = (uint32_t)n;
        } else if (KEY("submitted_ms")) {
            NUM(INT64_MIN, INT64_MAX);
            rep.has_submitted_ms = 1;
            rep.submitted_ms = n;
        } else if (KEY("requested_ms")) {
            NUM(INT64_MIN, INT64_MAX);
            cl.has_requested_ms = 1;
            cl.requested_ms = n;
        } else if (KEY("partitions")) {
            NUM(0, UINT32_MAX);
            cl.has_partitions = 1;
            cl.partitions = (uint32_t)n;
        } else if (KEY("schema_version")) {
            NUM(0, UINT32_MAX);
            env.has_schema_version = 1;
            env.schema_version = (uint32_t)n;
        } else {
            return bad_arg(a);
        }
#undef NUM
#undef KEY
    }

    if (mode == MODE_GARBAGE) {
        /* A varint that never ends: no protobuf parser accepts it. */
        static const uint8_t junk[] = {0xff, 0xff, 0xff};
        return write_all(out_path, junk, sizeof junk);
    }
    if (mode == MODE_REPORT) {
        env.body_case = AGG__V1__ENVELOPE__BODY_REPORT;
        env.report = &rep;
    } else if (mode == MODE_CLOSE) {
        env.body_case = AGG__V1__ENVELOPE__BODY_CLOSE;
        env.close = &cl;
    }
    size_t len = agg__v1__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        fputs("agg-encode: out of memory\n", stderr);
        return 1;
    }
    agg__v1__envelope__pack(&env, buf);
    int rc = write_all(out_path, buf, len);
    free(buf);
    return rc;
}
