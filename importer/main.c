/* agg-import: a district's own document (Word .docx, the text copied out of Word,
 * markdown or CSV with the Mongolian headers) -> canonical rows (SPEC 3) or plan rows
 * (SPEC 11), with a review report of every source row.
 *
 *   agg-import [options] FILE            (FILE - reads stdin)
 *
 * Data on stdout (or -o), the review report on stderr (or --report FILE, --json).
 * --publish hands the rows to the producer's own reader and publisher (producer/), so
 * the same validation, delivery guarantees and exit codes apply. Only main() decides
 * the exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../producer/produce.h"
#include "agg/config.h"
#include "agg/log.h"
#include "agg/regions.h"
#include "import.h"
#include "readers.h"
#include "text.h"

enum {
    IMP_EXIT_OK = 0,
    IMP_EXIT_INVALID = 1, /* a row could not be read, or the context is incomplete */
    IMP_EXIT_USAGE = 2,
    IMP_EXIT_DELIVERY = 3, /* --publish: some row was not acknowledged */
};

static struct {
    bool help;
    const char *output, *format, *region, *kind, *report, *regions_path, *report_id;
    const char *goal_from;
    long year, quarter, goal_depth;
    bool plan, json, lenient, publish, quiet;
    const char *bootstrap, *topic_prefix;
    long timeout_ms, partitions, replication_factor;
} cfg;

// clang-format off
static const agg_opt_t opts[] = {
    {"help", 'h', NULL, AGG_OPT_FLAG, NULL, 0, 0, "show this help", &cfg.help},
    {"output", 'o', NULL, AGG_OPT_STRING, NULL, 0, 0,
     "write the rows to FILE instead of stdout", &cfg.output},
    {"format", 0, NULL, AGG_OPT_STRING, "auto", 0, 0,
     "input format: auto|docx|text|markdown|csv (auto: from the content)", &cfg.format},
    {"region", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "region code (overrides the title), e.g. khuvsgul, ub-bagakhangai", &cfg.region},
    {"year", 0, NULL, AGG_OPT_INT, "0", 0, AGG_YEAR_MAX, "year (overrides the title)",
     &cfg.year},
    {"quarter", 0, NULL, AGG_OPT_INT, "0", 0, 4,
     "quarter 1-4 (overrides the title; half year = 2, annual = 4)", &cfg.quarter},
    {"plan", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "the document is a plan: write plan CSV (same as --kind plan)", &cfg.plan},
    {"kind", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "plan|report (overrides the title)", &cfg.kind},
    {"report", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "write the review report to FILE instead of stderr", &cfg.report},
    {"json", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "review report as JSON lines", &cfg.json},
    {"lenient", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "exit 0 (and publish) even when some rows could not be read", &cfg.lenient},
    {"goal-from", 0, NULL, AGG_OPT_STRING, "auto", 0, 0,
     "objective: auto (heading, else measure number) | heading | number", &cfg.goal_from},
    {"goal-depth", 0, NULL, AGG_OPT_INT, "1", 1, 4,
     "groups of the measure number that form the objective (3.2.1 -> 3 with 1)",
     &cfg.goal_depth},
    {"report-id", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "report_id of the rows (default: the file name)", &cfg.report_id},
    {"regions", 0, "AGG_REGIONS", AGG_OPT_STRING, NULL, 0, 0,
     "region list CSV with code,name_mn,kind (default: the compiled-in list)",
     &cfg.regions_path},
    {"publish", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "publish the rows to Kafka with agg-produce's code (reports only)", &cfg.publish},
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "--publish: Kafka bootstrap servers", &cfg.bootstrap},
    {"topic-prefix", 0, "AGG_TOPIC_PREFIX", AGG_OPT_STRING, "reports.", 0, 0,
     "--publish: quarter topics are <prefix>YYYY-Qn", &cfg.topic_prefix},
    {"timeout-ms", 0, "AGG_TIMEOUT_MS", AGG_OPT_INT, "60000", 1, 3600000,
     "--publish: bound of each wait on the broker", &cfg.timeout_ms},
    {"partitions", 0, "AGG_PARTITIONS", AGG_OPT_INT, "6", 1, 100000,
     "--publish: partitions of a topic the producer creates", &cfg.partitions},
    {"replication-factor", 0, "AGG_REPLICATION_FACTOR", AGG_OPT_INT, "-1", -1, 32767,
     "--publish: replication factor of a created topic", &cfg.replication_factor},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "no review report lines except skips and errors", &cfg.quiet},
    {0},
};
// clang-format on

static int usage_error(const char *msg) {
    fprintf(stderr, "agg-import: %s\nTry 'agg-import --help'.\n", msg);
    return IMP_EXIT_USAGE;
}

static void print_help(void) {
    agg_opts_usage(stdout, "agg-import [options] FILE   (FILE - reads stdin)", opts + 1);
    fputs("\n"
"Reads a district's plan or report (Word .docx, the text copied out of Word,\n"
"markdown pipe tables, CSV with the Mongolian headers) and writes canonical CSV\n"
"(plan CSV for plans) on stdout. The review report on stderr names every source\n"
"row (line, or table/row/cell) with what it became or why it was skipped.\n"
"\n"
"Exit status: 0 every row read (and, with --publish, acknowledged), 1 a row could\n"
"not be read (unless --lenient) or the region/year/quarter is neither in the title\n"
"nor given, 2 usage, 3 --publish delivery failure.\n", stdout);
}

/* Reads the whole input (bounded by IMP_INPUT_MAX). Returns a malloc'ed buffer the
 * caller frees, or NULL with the reason in errstr. */
static char *read_all(const char *path, size_t *len, char *errstr, size_t errstr_size) {
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (in == NULL) {
        agg_fail(errstr, errstr_size, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            if (cap >= IMP_INPUT_MAX) {
                agg_fail(errstr, errstr_size, "larger than %u bytes", IMP_INPUT_MAX);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            char *p = realloc(buf, cap);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0) {
            if (ferror(in)) {
                agg_fail(errstr, errstr_size, "read error: %s", strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (buf == NULL && errstr[0] == '\0')
        agg_fail(errstr, errstr_size, "out of memory");
    if (!is_stdin)
        fclose(in);
    *len = n;
    return buf;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The rows through the producer's reader and publisher, as if agg-produce had read
 * them from a file named "agg-import:FILE". */
static int publish(const char *csv, size_t len, const char *file, agg_kprops_t *props) {
    char err[768];
    if (agg_check_topic_prefix(cfg.topic_prefix, err, sizeof err) != 0)
        return usage_error(err);
    static agg_regions_t regions;
    int lrc = cfg.regions_path ? agg_regions_load(&regions, cfg.regions_path, err, sizeof err)
                               : agg_regions_load_default(&regions, err, sizeof err);
    if (lrc != 0)
        return usage_error(err);
    rd_kafka_conf_t *conf = prod_conf_new(cfg.bootstrap, cfg.timeout_ms, props, err, sizeof err);
    if (conf == NULL)
        return usage_error(err);
    FILE *in = fmemopen((void *)csv, len, "rb");
    if (in == NULL) {
        rd_kafka_conf_destroy(conf);
        fputs("agg-import: out of memory\n", stderr);
        return IMP_EXIT_INVALID;
    }
    char name[300];
    snprintf(name, sizeof name, "agg-import:%s", file);
    prod_rows_t rows;
    memset(&rows, 0, sizeof rows);
    prod_read_opts_t ro = {.topic_prefix = cfg.topic_prefix,
                           .regions = &regions,
                           .default_submitted_ms = agg_now_ms()};
    int rc = prod_rows_read_stream(&rows, in, name, &ro);
    fclose(in);
    if (rc != 0 || rows.invalid_rows || rows.file_errors) {
        fprintf(stderr, "agg-import: %s; nothing published\n",
                rc != 0 ? "out of memory" : "the producer refused rows");
        rd_kafka_conf_destroy(conf);
        prod_rows_free(&rows);
        return IMP_EXIT_INVALID;
    }
    int result = IMP_EXIT_OK;
    if (rows.count == 0) {
        rd_kafka_conf_destroy(conf);
        if (!cfg.quiet)
            fputs("published 0 records to 0 topics\n", stderr);
    } else {
        prod_kafka_opts_t ko = {.partitions = (int)cfg.partitions,
                                .replication_factor = (int)cfg.replication_factor,
                                .timeout_ms = prod_wait_ms(cfg.timeout_ms, props)};
        result = prod_publish_rows(&rows, conf, &ko, cfg.quiet);
        conf = NULL; /* consumed */
    }
    prod_rows_free(&rows);
    return result;
}

/* Applies the flags over what the title says and names what is still missing.
 * Returns the number of missing values (each an error note). */
static int settle_context(imp_context_t *c, imp_result_t *res, bool plan) {
    int missing = 0;
    if (cfg.region) {
        snprintf(c->region, sizeof c->region, "%s", cfg.region);
        snprintf(c->region_src, sizeof c->region_src, "--region");
    }
    if (cfg.year) {
        c->year = (int)cfg.year;
        snprintf(c->year_src, sizeof c->year_src, "--year");
    }
    if (cfg.quarter) {
        c->quarter = (int)cfg.quarter;
        snprintf(c->quarter_src, sizeof c->quarter_src, "--quarter");
    }
    struct {
        const char *name;
        bool ok;
        const char *src, *err;
    } f[] = {{"region", c->region[0] != '\0', c->region_src, c->region_err},
             {"year", c->year != 0, c->year_src, c->year_err},
             {"quarter", plan || c->quarter != 0, c->quarter_src, c->quarter_err}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].ok) {
            missing++;
            if (imp_note(res, IMP_NOTE_ERROR, "", "%s: %s", f[i].name, f[i].err) != 0)
                return -1;
        } else if (!(plan && i == 2)) {
            char v[40];
            if (i == 0)
                snprintf(v, sizeof v, "%s", c->region);
            else
                snprintf(v, sizeof v, "%d", i == 1 ? c->year : c->quarter);
            if (imp_note(res, IMP_NOTE_INFO, "", "%s %s (%s)", f[i].name, v, f[i].src) != 0)
                return -1;
        }
    }
    return missing;
}

int main(int argc, char **argv) {
    agg_kprops_t *props = calloc(1, sizeof *props); /* 80 KiB: not on the stack */
    if (props == NULL) {
        fputs("agg-import: out of memory\n", stderr);
        return IMP_EXIT_USAGE;
    }
    char err[1024] = "";
    int first = 0, exit_code = IMP_EXIT_OK;
    char *data = NULL;
    imp_doc_t doc;
    imp_result_t res;
    memset(&doc, 0, sizeof doc);
    memset(&res, 0, sizeof res);
    FILE *report = stderr, *out = stdout;
    char *csv = NULL;
    size_t csv_len = 0;

    int rc = agg_opts_parse(opts, argc, argv, &first, props, err, sizeof err);
    if (rc < 0) {
        exit_code = usage_error(err);
        goto done;
    }
    if (cfg.help || rc == 1) {
        if (cfg.help)
            print_help();
        goto done;
    }
    if (first != argc - 1) {
        exit_code = usage_error(first >= argc ? "no input file (FILE, or - for stdin)"
                                              : "one input file at a time");
        goto done;
    }
    const char *path = argv[first];
    const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    imp_format_t fmt;
    if (imp_format_parse(cfg.format, &fmt) != 0) {
        exit_code = usage_error("--format: one of auto, docx, text, markdown, csv");
        goto done;
    }
    imp_convert_opts_t co = {.goal_rule = IMP_GOALS_AUTO, .goal_depth = (int)cfg.goal_depth};
    if (strcmp(cfg.goal_from, "heading") == 0)
        co.goal_rule = IMP_GOALS_HEADING;
    else if (strcmp(cfg.goal_from, "number") == 0)
        co.goal_rule = IMP_GOALS_NUMBER;
    else if (strcmp(cfg.goal_from, "auto") != 0) {
        exit_code = usage_error("--goal-from: one of auto, heading, number");
        goto done;
    }
    if (cfg.kind && strcmp(cfg.kind, "plan") != 0 && strcmp(cfg.kind, "report") != 0) {
        exit_code = usage_error("--kind: plan or report");
        goto done;
    }
    if (cfg.region && agg_check_region(cfg.region, strlen(cfg.region), err, sizeof err) != 0) {
        char msg[1100];
        snprintf(msg, sizeof msg, "--region: %s", err);
        exit_code = usage_error(msg);
        goto done;
    }
    if (cfg.year && cfg.year < AGG_YEAR_MIN) {
        exit_code = usage_error("--year: 2000-2100");
        goto done;
    }

    /* region names for the title */
    static imp_region_names_t names;
    char *regions_text = NULL;
    if (cfg.regions_path) {
        size_t rl;
        regions_text = read_all(cfg.regions_path, &rl, err, sizeof err);
        if (regions_text == NULL || memchr(regions_text, '\0', rl)) {
            fprintf(stderr, "agg-import: --regions %s: %s\n", cfg.regions_path,
                    regions_text ? "a NUL byte" : err);
            free(regions_text);
            exit_code = IMP_EXIT_USAGE;
            goto done;
        }
        char *t = realloc(regions_text, rl + 1);
        if (t == NULL) {
            free(regions_text);
            exit_code = IMP_EXIT_USAGE;
            goto done;
        }
        regions_text = t;
        regions_text[rl] = '\0';
    }
    rc = imp_region_names_load(&names, regions_text ? regions_text : agg_default_regions_csv,
                               err, sizeof err);
    free(regions_text);
    if (rc != 0) {
        exit_code = usage_error(err);
        goto done;
    }

    size_t len = 0;
    data = read_all(path, &len, err, sizeof err);
    if (data == NULL) {
        fprintf(stderr, "agg-import: %s: %s\n", file, err);
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    if (fmt == IMP_FMT_AUTO)
        fmt = imp_format_detect(data, len);
    if (fmt != IMP_FMT_DOCX) {
        /* Text exports must be UTF-8; one saved in a legacy code page would only give
         * rows with garbled titles, so it is refused with the place of the first bad
         * byte. */
        size_t ok = imp_text_utf8_prefix(data, len, len);
        if (ok < len) {
            long line = 1;
            for (size_t k = 0; k < ok; k++)
                line += data[k] == '\n';
            fprintf(stderr, "agg-import: %s: line %ld: not UTF-8 (byte 0x%02x at offset %zu); "
                    "save the export as UTF-8 (e.g. iconv -t UTF-8)\n", file, line,
                    (unsigned char)data[ok], ok);
            exit_code = IMP_EXIT_INVALID;
            goto done;
        }
    }
    switch (fmt) {
    case IMP_FMT_DOCX:
        rc = imp_read_docx(data, len, &doc, err, sizeof err);
        break;
    case IMP_FMT_MARKDOWN:
        rc = imp_read_markdown(data, len, &doc, err, sizeof err);
        break;
    case IMP_FMT_CSV:
        rc = imp_read_csv(data, len, &doc, err, sizeof err);
        break;
    default:
        rc = imp_read_text(data, len, &doc, err, sizeof err);
        break;
    }
    if (rc != 0) {
        fprintf(stderr, "agg-import: %s: %s (read as %s)\n", file, err, imp_format_name(fmt));
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    if (imp_note(&res, IMP_NOTE_INFO, "", "read as %s", imp_format_name(fmt)) != 0 ||
        imp_convert(&doc, &co, &res, err, sizeof err) != 0) {
        fprintf(stderr, "agg-import: %s: %s\n", file, err[0] ? err : "out of memory");
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    if (!res.saw_table) {
        /* name the first table row, so the clerk sees which headers were not known */
        char row1[600] = "", where[48] = "";
        for (size_t b = 0; b < doc.count && !row1[0]; b++) {
            const imp_block_t *blk = &doc.block[b];
            if (blk->kind != IMP_ROW || blk->sep)
                continue;
            size_t o = 0;
            for (size_t c = 0; c < blk->ncells && o + 100 < sizeof row1; c++) {
                if (!blk->cell[c].text[0])
                    continue;
                char ex[96];
                o += (size_t)snprintf(row1 + o, sizeof row1 - o, " [%s]",
                                      imp_text_excerpt(blk->cell[c].text, 60, ex, sizeof ex));
            }
            imp_where(blk, -1, where, sizeof where);
        }
        imp_note(&res, IMP_NOTE_ERROR, where, "no table with the known headers (Д/д, Шалгуур "
                 "үзүүлэлт, Суурь/Хүрэх/Хүрсэн түвшин, ...) found%s%s",
                 row1[0] ? "; the first table row is" : " (and no table rows)", row1);
    }

    imp_context_t ctx;
    imp_context_find(&ctx, res.title, res.ntitle, &names);
    bool plan = cfg.plan || (cfg.kind && strcmp(cfg.kind, "plan") == 0);
    if (cfg.kind && strcmp(cfg.kind, "report") == 0)
        plan = false;
    else if (!plan && !cfg.kind) {
        if (ctx.kind == IMP_KIND_PLAN && !res.saw_achieved)
            plan = true;
        else if (ctx.kind == IMP_KIND_UNKNOWN && !res.saw_achieved)
            imp_note(&res, IMP_NOTE_INFO, "", "%s and no achieved column: read as a report "
                     "(--plan for a plan)", ctx.kind_err);
    }
    if (imp_note(&res, IMP_NOTE_INFO, "", "%s (%s)", plan ? "plan" : "report",
                 cfg.plan || cfg.kind ? "flag"
                 : ctx.kind_src[0]    ? ctx.kind_src
                 : res.saw_achieved   ? "achieved column"
                                      : "default") != 0) {
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    int missing = settle_context(&ctx, &res, plan);
    if (missing != 0 || !res.saw_table) {
        exit_code = IMP_EXIT_INVALID;
        goto write_report;
    }
    if (plan && cfg.publish) {
        imp_note(&res, IMP_NOTE_ERROR, "", "--publish: a plan is not published (no topic for "
                 "plans yet, SPEC 11)");
        exit_code = IMP_EXIT_INVALID;
        goto write_report;
    }

    /* report_id: at most AGG_REPORT_ID_MAX bytes, cut at a character boundary */
    char report_id[AGG_REPORT_ID_MAX + 1];
    const char *rid = cfg.report_id ? cfg.report_id : base_name(file);
    size_t rl = imp_text_utf8_prefix(rid, strlen(rid), AGG_REPORT_ID_MAX);
    memcpy(report_id, rid, rl);
    report_id[rl] = '\0';
    static agg_regions_t known;
    char rerr[600];
    int lrc = cfg.regions_path ? agg_regions_load(&known, cfg.regions_path, rerr, sizeof rerr)
                               : agg_regions_load_default(&known, rerr, sizeof rerr);
    if (lrc != 0) {
        exit_code = usage_error(rerr);
        goto done;
    }
    if (!agg_regions_contains(&known, ctx.region, strlen(ctx.region))) {
        imp_note(&res, IMP_NOTE_ERROR, "", "region: '%s' is not in the reference list", ctx.region);
        exit_code = IMP_EXIT_INVALID;
        goto write_report;
    }
    if (imp_validate_rows(&res, &ctx, &known, report_id) != 0) {
        fputs("agg-import: out of memory\n", stderr);
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    FILE *mem = open_memstream(&csv, &csv_len);
    if (mem == NULL ||
        (plan ? imp_write_plan_csv(mem, &res, &ctx) : imp_write_csv(mem, &res, &ctx, report_id)) !=
            0) {
        if (mem)
            fclose(mem);
        fputs("agg-import: out of memory\n", stderr);
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    if (fclose(mem) != 0) {
        fputs("agg-import: out of memory\n", stderr);
        exit_code = IMP_EXIT_INVALID;
        goto done;
    }
    if (cfg.output || !cfg.publish) {
        out = cfg.output ? fopen(cfg.output, "wb") : stdout;
        if (out == NULL || fwrite(csv, 1, csv_len, out) != csv_len || fflush(out) != 0) {
            fprintf(stderr, "agg-import: %s: %s\n", cfg.output ? cfg.output : "stdout",
                    strerror(errno));
            exit_code = IMP_EXIT_INVALID;
        }
        if (out && out != stdout && fclose(out) != 0 && exit_code == IMP_EXIT_OK) {
            fprintf(stderr, "agg-import: %s: %s\n", cfg.output, strerror(errno));
            exit_code = IMP_EXIT_INVALID;
        }
    }
    if (res.skipped && !cfg.lenient && exit_code == IMP_EXIT_OK)
        exit_code = IMP_EXIT_INVALID;

write_report:
    if (cfg.report && (report = fopen(cfg.report, "wb")) == NULL) {
        fprintf(stderr, "agg-import: --report %s: %s\n", cfg.report, strerror(errno));
        report = stderr;
        exit_code = IMP_EXIT_USAGE;
    }
    if (cfg.quiet) {
        /* only what needs a fix */
        size_t k = 0;
        for (size_t i = 0; i < res.nnotes; i++) {
            if (res.note[i].kind == IMP_NOTE_SKIP || res.note[i].kind == IMP_NOTE_ERROR)
                res.note[k++] = res.note[i];
            else
                free(res.note[i].msg);
        }
        res.nnotes = k;
    }
    imp_report_sort(&res);
    if (imp_report_write(report, file, &res, cfg.json) != 0)
        exit_code = IMP_EXIT_INVALID;
    if (!cfg.json && !cfg.quiet && csv == NULL)
        fprintf(report, "%s: no rows written (see the ERROR lines)\n", file);
    else if (!cfg.json && !cfg.quiet)
        fprintf(report, "%s: %zu row%s, %zu skipped%s\n", file, res.nrows,
                res.nrows == 1 ? "" : "s", res.skipped,
                res.skipped && !cfg.lenient ? " (exit 1; --lenient accepts)" : "");
    if (report != stderr && fclose(report) != 0)
        exit_code = IMP_EXIT_INVALID;

    if (cfg.publish && exit_code == IMP_EXIT_OK)
        exit_code = publish(csv, csv_len, file, props);
    else if (cfg.publish && exit_code == IMP_EXIT_INVALID)
        fputs("agg-import: nothing published\n", stderr);

done:
    free(csv);
    imp_result_free(&res);
    imp_doc_free(&doc);
    free(data);
    free(props);
    return exit_code;
}
