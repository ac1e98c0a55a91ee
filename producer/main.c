/* agg-produce: publishes district report rows from canonical CSV files to the quarter
 * topics, and closes quarters.
 *
 *   agg-produce [options] FILE.csv...                 publish (FILE "-" = stdin)
 *   agg-produce close --quarter 2024-Q2 [--by NAME]   write a close marker to every
 *                                                     partition of the quarter's topic
 *
 * kcat manners: data (only --dry-run has any) on stdout, diagnostics on stderr,
 * -q/-v, librdkafka properties through -X/-F, documented exit codes. Only main()
 * decides the exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/codec.h"
#include "agg/config.h"
#include "agg/deadline.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/regions.h"
#include "produce.h"

/* Kafka limits topic names to 249 bytes; the prefix is followed by "YYYY-Qn". */
#define TOPIC_NAME_MAX AGG_TOPIC_NAME_MAX

static struct {
    bool help;
    const char *bootstrap;
    const char *topic_prefix;
    long partitions;
    long replication_factor;
    const char *regions_path;
    bool no_region_check;
    bool skip_invalid;
    bool dry_run;
    long timeout_ms;
    bool quiet, verbose;
    const char *quarter; /* close */
    const char *by;      /* close */
    const char *deadline; /* close: explicit deadline of this quarter */
    long deadline_day;    /* close: the rule's day */
} cfg;

/* The tables and help text keep their own layout. */
// clang-format off
/* Shared rows of both tables. "help" comes first so usage can print the table without
 * it (agg_opts_usage lists -h/--help itself). */
#define OPT_HELP \
    {"help", 'h', NULL, AGG_OPT_FLAG, NULL, 0, 0, "show this help", &cfg.help}
#define OPT_COMMON \
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0, \
     "Kafka bootstrap servers, host:port[,host:port...]", &cfg.bootstrap}, \
    {"topic-prefix", 0, "AGG_TOPIC_PREFIX", AGG_OPT_STRING, "reports.", 0, 0, \
     "quarter topics are <prefix>YYYY-Qn", &cfg.topic_prefix}, \
    {"timeout-ms", 0, "AGG_TIMEOUT_MS", AGG_OPT_INT, "60000", 1, 3600000, \
     "bound of each wait on the broker (topic setup, delivery)", &cfg.timeout_ms}, \
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, \
     "only errors on stderr, no summary", &cfg.quiet}, \
    {"verbose", 'v', NULL, AGG_OPT_FLAG, NULL, 0, 0, \
     "debug logging (librdkafka too)", &cfg.verbose}

static const agg_opt_t publish_opts[] = {
    OPT_HELP,
    OPT_COMMON,
    {"partitions", 0, "AGG_PARTITIONS", AGG_OPT_INT, "6", 1, 100000,
     "partitions of a topic the producer creates", &cfg.partitions},
    {"replication-factor", 0, "AGG_REPLICATION_FACTOR", AGG_OPT_INT, "-1", -1, 32767,
     "replication factor of a created topic (-1 = broker default)",
     &cfg.replication_factor},
    {"regions", 0, "AGG_REGIONS", AGG_OPT_STRING, NULL, 0, 0,
     "region list, a CSV with a 'code' column (default: the compiled-in list)",
     &cfg.regions_path},
    {"no-region-check", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "accept any well-formed region code", &cfg.no_region_check},
    {"skip-invalid", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "publish the valid rows even if some are invalid (exit status is still 1)",
     &cfg.skip_invalid},
    {"dry-run", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "validate and print the records as JSON lines on stdout; no broker", &cfg.dry_run},
    {0},
};

static const agg_opt_t close_opts[] = {
    OPT_HELP,
    {"quarter", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "quarter to close, e.g. 2024-Q2 (required)", &cfg.quarter},
    {"by", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "who asks for the close, recorded in the marker (default: $USER)", &cfg.by},
    {"deadline", 0, "AGG_DEADLINE", AGG_OPT_STRING, NULL, 0, 0,
     "the quarter's reporting deadline, RFC 3339 (default: the deadline-day rule)",
     &cfg.deadline},
    {"deadline-day", 0, "AGG_DEADLINE_DAY", AGG_OPT_INT, "10", 1, 31,
     "deadline rule: 00:00 UTC+8 on this day of the month after the quarter",
     &cfg.deadline_day},
    OPT_COMMON,
    {0},
};

static void print_help(bool close_mode) {
    if (close_mode) {
        agg_opts_usage(stdout, "agg-produce close --quarter YYYY-Qn [options]",
                       close_opts + 1);
        fputs("\n"
"Writes a quarter-close marker to every partition of <prefix>YYYY-Qn. The topic\n"
"must exist (exit status 1 if not). A worker closes a partition when it reaches\n"
"the marker.\n", stdout);
    } else {
        agg_opts_usage(stdout,
                       "agg-produce [options] FILE.csv...  (FILE - reads stdin)\n"
                       "       agg-produce close --quarter YYYY-Qn [options]",
                       publish_opts + 1);
        fputs("\n"
"CSV: UTF-8, RFC 4180, header row, any column order. Required columns: region,\n"
"year, quarter, goal, indicator. Optional: title, unit (count|person|mnt|pct|text),\n"
"baseline, target, achieved, completion, revision, submitted_at (RFC 3339),\n"
"report_id. Empty optional field = absent. Each record goes to <prefix>YYYY-Qn\n"
"with the region as key. Options come before the files.\n", stdout);
    }
    fputs("\n"
"Exit status: 0 every message acknowledged by the broker, 1 invalid input,\n"
"2 usage or configuration error, 3 delivery failure (the rows or partitions not\n"
"acknowledged are named on stderr).\n", stdout);
}

// clang-format on

static int usage_error(const char *msg) {
    fprintf(stderr, "agg-produce: %s\nTry 'agg-produce --help'.\n", msg);
    return PROD_EXIT_USAGE;
}

static void set_log_level(void) {
    agg_log_level = cfg.quiet ? AGG_LOG_ERROR : cfg.verbose ? AGG_LOG_DEBUG : AGG_LOG_INFO;
}

static int wait_ms(const agg_kprops_t *props) { return prod_wait_ms(cfg.timeout_ms, props); }

/* NULL after printing the reason. */
static rd_kafka_conf_t *make_conf(const agg_kprops_t *props) {
    char err[768];
    rd_kafka_conf_t *conf = prod_conf_new(cfg.bootstrap, cfg.timeout_ms, props, err, sizeof err);
    if (conf == NULL)
        usage_error(err);
    return conf;
}

static int close_main(int argc, char **argv, agg_kprops_t *props) {
    char err[512];
    int first = 0;
    int rc = agg_opts_parse(close_opts, argc, argv, &first, props, err, sizeof err);
    if (rc < 0)
        return usage_error(err);
    if (cfg.help || rc == 1) {
        if (cfg.help)
            print_help(true);
        return PROD_EXIT_OK;
    }
    set_log_level();
    if (first < argc) {
        snprintf(err, sizeof err, "close: unexpected argument \"%s\"", argv[first]);
        return usage_error(err);
    }
    if (cfg.quarter == NULL)
        return usage_error("close: --quarter YYYY-Qn is required");
    int year, quarter;
    if (agg_quarter_parse(cfg.quarter, strlen(cfg.quarter), &year, &quarter) != 0) {
        snprintf(err, sizeof err, "--quarter: \"%s\" is not a quarter like 2024-Q2",
                 cfg.quarter);
        return usage_error(err);
    }
    if (agg_check_topic_prefix(cfg.topic_prefix, err, sizeof err) != 0)
        return usage_error(err);
    char qid[AGG_QUARTER_ID_LEN + 1], topic[TOPIC_NAME_MAX + 1];
    if (agg_quarter_format(year, quarter, qid, sizeof qid) != 0)
        return usage_error("--quarter");
    snprintf(topic, sizeof topic, "%s%s", cfg.topic_prefix, qid);

    const char *by = cfg.by;
    if (by == NULL || by[0] == '\0')
        by = getenv("USER");
    if (by != NULL && by[0] == '\0')
        by = NULL;

    agg_close_t marker = {.year = year, .quarter = quarter, .requested_ms = agg_now_ms()};
    if (by && strlen(by) > AGG_REQUESTED_BY_MAX)
        return usage_error("--by: longer than 128 bytes");
    snprintf(marker.requested_by, sizeof marker.requested_by, "%s", by ? by : "");
    agg_deadlines_t dl;
    char explicit_list[512] = "";
    if (cfg.deadline && snprintf(explicit_list, sizeof explicit_list, "%s=%s", qid,
                                 cfg.deadline) >= (int)sizeof explicit_list)
        return usage_error("--deadline: too long");
    if (agg_deadlines_init(&dl, (int)cfg.deadline_day, explicit_list, err, sizeof err) != 0)
        return usage_error(err);
    marker.deadline_ms = agg_deadline_ms(&dl, year, quarter);

    rd_kafka_conf_t *conf = make_conf(props);
    if (conf == NULL)
        return PROD_EXIT_USAGE;
    prod_kafka_opts_t ko = {.partitions = (int)cfg.partitions,
                            .replication_factor = (int)cfg.replication_factor,
                            .timeout_ms = wait_ms(props)};
    return prod_publish_close(topic, &marker, conf, &ko, cfg.quiet);
}

/* "(reports.2024-Q2: 10, reports.2024-Q3: 2)" for the dry-run summary. */
static void print_topic_counts(const prod_rows_t *rows) {
    const char *sep = " (";
    for (size_t t = 0; t < rows->ntopics; t++) {
        fprintf(stderr, "%s%s: %zu", sep, rows->topic[t].name, rows->topic[t].rows);
        sep = ", ";
    }
    if (rows->ntopics)
        fputc(')', stderr);
}

static int publish_main(int argc, char **argv, agg_kprops_t *props) {
    char err[512];
    int first = 0;
    int rc = agg_opts_parse(publish_opts, argc, argv, &first, props, err, sizeof err);
    if (rc < 0)
        return usage_error(err);
    if (cfg.help || rc == 1) {
        if (cfg.help)
            print_help(false);
        return PROD_EXIT_OK;
    }
    set_log_level();
    if (first >= argc)
        return usage_error("no input files (FILE.csv..., or - for stdin)");
    /* Parsing stops at the first file; a flag after it would otherwise be taken for a
     * file name. "--" ends the options for a file whose name starts with '-'. */
    bool after_dashdash = first > 1 && strcmp(argv[first - 1], "--") == 0;
    for (int i = first; i < argc && !after_dashdash; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            snprintf(err, sizeof err, "options go before the files: \"%s\"", argv[i]);
            return usage_error(err);
        }
    }
    if (agg_check_topic_prefix(cfg.topic_prefix, err, sizeof err) != 0)
        return usage_error(err);

    /* A bad list or bad -X is a configuration error: report it before reading input. */
    static agg_regions_t regions;
    const agg_regions_t *list = NULL;
    if (!cfg.no_region_check) {
        int lrc = cfg.regions_path
                      ? agg_regions_load(&regions, cfg.regions_path, err, sizeof err)
                      : agg_regions_load_default(&regions, err, sizeof err);
        if (lrc != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "--regions: %s", err);
            return usage_error(msg);
        }
        list = &regions;
    }
    rd_kafka_conf_t *conf = make_conf(props);
    if (conf == NULL)
        return PROD_EXIT_USAGE;

    prod_rows_t rows;
    memset(&rows, 0, sizeof rows);
    prod_read_opts_t ro = {.topic_prefix = cfg.topic_prefix,
                           .regions = list,
                           .default_submitted_ms = agg_now_ms()};
    for (int i = first; i < argc; i++) {
        if (prod_rows_read(&rows, argv[i], &ro) != 0) {
            fprintf(stderr, "agg-produce: out of memory reading %s\n", argv[i]);
            rd_kafka_conf_destroy(conf);
            prod_rows_free(&rows);
            return PROD_EXIT_INVALID;
        }
    }

    bool invalid = rows.invalid_rows > 0 || rows.file_errors > 0;
    if (invalid) {
        char what[160];
        snprintf(what, sizeof what, "%zu invalid row%s", rows.invalid_rows,
                 rows.invalid_rows == 1 ? "" : "s");
        if (rows.file_errors)
            snprintf(what + strlen(what), sizeof what - strlen(what),
                     ", %zu unusable file%s", rows.file_errors,
                     rows.file_errors == 1 ? "" : "s");
        if (!cfg.skip_invalid) {
            fprintf(stderr,
                    "agg-produce: %s; nothing published (--skip-invalid publishes the %zu "
                    "valid row%s)\n",
                    what, rows.count, rows.count == 1 ? "" : "s");
            rd_kafka_conf_destroy(conf);
            prod_rows_free(&rows);
            return PROD_EXIT_INVALID;
        }
        fprintf(stderr, "agg-produce: %s skipped\n", what);
    }

    int result;
    if (cfg.dry_run) {
        rd_kafka_conf_destroy(conf);
        if (prod_dry_run_print(&rows) != 0) {
            fprintf(stderr, "agg-produce: cannot write to stdout\n");
            prod_rows_free(&rows);
            return PROD_EXIT_INVALID;
        }
        if (!cfg.quiet) {
            fprintf(stderr, "dry run: %zu record%s for %zu topic%s", rows.count,
                    rows.count == 1 ? "" : "s", rows.ntopics, rows.ntopics == 1 ? "" : "s");
            print_topic_counts(&rows);
            fputs(", nothing sent\n", stderr);
        }
        result = PROD_EXIT_OK;
    } else if (rows.count == 0) {
        rd_kafka_conf_destroy(conf);
        if (!cfg.quiet)
            fputs("published 0 records to 0 topics\n", stderr);
        result = PROD_EXIT_OK;
    } else {
        prod_kafka_opts_t ko = {.partitions = (int)cfg.partitions,
                                .replication_factor = (int)cfg.replication_factor,
                                .timeout_ms = wait_ms(props)};
        result = prod_publish_rows(&rows, conf, &ko, cfg.quiet);
        conf = NULL; /* consumed */
    }
    prod_rows_free(&rows);
    /* Undelivered rows (3) outrank skipped invalid ones (1): they are what the
     * operator believes was sent. */
    if (result == PROD_EXIT_OK && invalid)
        result = PROD_EXIT_INVALID;
    return result;
}

int main(int argc, char **argv) {
    /* 80 KiB of property slots: on the heap, not the stack. */
    agg_kprops_t *props = calloc(1, sizeof *props);
    if (props == NULL) {
        fputs("agg-produce: out of memory\n", stderr);
        return PROD_EXIT_USAGE;
    }
    int rc;
    /* "close" is a subcommand only in first position; a file named close is ./close. */
    if (argc >= 2 && strcmp(argv[1], "close") == 0)
        rc = close_main(argc - 1, argv + 1, props);
    else
        rc = publish_main(argc, argv, props);
    free(props);
    return rc;
}
