/* agg-worker: consumer-group member that keeps the quarterly aggregates in Redis.
 *
 *   agg-worker [options]            run a worker (until SIGTERM/SIGINT)
 *   agg-worker replay --quarter Q [--verify] [--json] [options]
 *                                   recompute a quarter from its topic (replay.c)
 *
 * Exit codes: 0 graceful stop, 1 fatal error, 2 usage/configuration. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker.h"
#include "replay.h"
#include "worker_run.h"

volatile sig_atomic_t worker_stop;

static void on_signal(int sig) {
    (void)sig;
    worker_stop = 1;
}

static worker_conf_t conf;

/* The one table of options: parsing, --help and the README's list come from it. */
static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &conf.bootstrap},
    {"redis-url", 'r', "AGG_REDIS_URL", AGG_OPT_STRING, "redis://127.0.0.1:6379/0", 0, 0,
     "Redis: redis://[user:pass@]host:port[/db]", &conf.redis_url},
    {"group", 'g', "AGG_GROUP", AGG_OPT_STRING, "agg-worker", 0, 0,
     "consumer group (workers of one deployment share it)", &conf.group},
    {"topic-prefix", 0, "AGG_TOPIC_PREFIX", AGG_OPT_STRING, "reports.", 0, 0,
     "quarter topics are <prefix>YYYY-Qn", &conf.topic_prefix},
    {"key-prefix", 0, "AGG_KEY_PREFIX", AGG_OPT_STRING, "agg", 0, 0,
     "prefix of every Redis key", &conf.key_prefix},
    {"dlq-topic", 0, "AGG_DLQ_TOPIC", AGG_OPT_STRING, NULL, 0, 0,
     "dead-letter topic (default <topic-prefix>dlq)", &conf.dlq_topic},
    {"summary-topic", 0, "AGG_SUMMARY_TOPIC", AGG_OPT_STRING, NULL, 0, 0,
     "summary topic (default <topic-prefix>summaries)", &conf.summary_topic},
    {"dlq-partitions", 0, "AGG_DLQ_PARTITIONS", AGG_OPT_INT, "1", 1, 1000,
     "partitions of the DLQ topic when the worker creates it", &conf.dlq_partitions},
    {"dlq-max-bytes", 0, "AGG_DLQ_MAX_BYTES", AGG_OPT_INT, "900000", 4096, 100000000,
     "a reject longer than this (key + value) goes to the DLQ cut, with its original "
     "length and SHA-256 in headers",
     &conf.dlq_max_bytes},
    {"batch-size", 0, "AGG_BATCH_SIZE", AGG_OPT_INT, "5000", 1, 100000,
     "max messages held before they are applied", &conf.batch_size},
    {"batch-ms", 0, "AGG_BATCH_MS", AGG_OPT_INT, "100", 1, 60000,
     "max time a message is held before it is applied", &conf.batch_ms},
    {"regions", 0, "AGG_REGIONS", AGG_OPT_STRING, NULL, 0, 0,
     "reference list of regions, CSV with a code column (default: built in)",
     &conf.regions_file},
    {"no-region-check", 0, "AGG_NO_REGION_CHECK", AGG_OPT_FLAG, NULL, 0, 0,
     "accept any well-formed region code", &conf.no_region_check},
    {"metrics-interval-ms", 0, "AGG_METRICS_INTERVAL_MS", AGG_OPT_INT, "10000", 100,
     3600000, "how often metrics are logged (and stored in Redis)",
     &conf.metrics_interval_ms},
    {"metrics-json", 0, "AGG_METRICS_JSON", AGG_OPT_FLAG, NULL, 0, 0,
     "also print metrics as JSON lines on stdout", &conf.metrics_json},
    {"offset-check-ms", 0, "AGG_OFFSET_CHECK_MS", AGG_OPT_INT, "1000", 100, 3600000,
     "how often the stored offsets of quiet partitions are re-read (also after every "
     "Redis reconnect)",
     &conf.offset_check_ms},
    {"late-policy", 0, "AGG_LATE_POLICY", AGG_OPT_STRING, "amend", 0, 0,
     "records after a quarter closed: amend (apply, amended summaries) or reject (DLQ)",
     &conf.late_policy},
    {"amend-quiet-ms", 0, "AGG_AMEND_QUIET_MS", AGG_OPT_INT, "30000", 0, 86400000,
     "an amendment is emitted after this long without another late record",
     &conf.amend_quiet_ms},
    {"amend-max-delay-ms", 0, "AGG_AMEND_MAX_DELAY_MS", AGG_OPT_INT, "300000", 0, 86400000,
     "... and at the latest this long after the first late record of a burst",
     &conf.amend_max_delay_ms},
    {"deadline-day", 0, "AGG_DEADLINE_DAY", AGG_OPT_INT, "10", 1, 31,
     "deadline rule: 00:00 UTC+8 on this day of the month after the quarter",
     &conf.deadline_day},
    {"deadlines", 0, "AGG_DEADLINES", AGG_OPT_STRING, NULL, 0, 0,
     "explicit deadlines, Q=RFC3339[,Q=RFC3339...], e.g. 2024-Q2=2024-07-15T00:00:00+08:00",
     &conf.deadline_list},
    {"no-deadline-close", 0, "AGG_NO_DEADLINE_CLOSE", AGG_OPT_FLAG, NULL, 0, 0,
     "do not write close markers when a quarter's deadline passes", &conf.no_deadline_close},
    {"summary-partitions", 0, "AGG_SUMMARY_PARTITIONS", AGG_OPT_INT, "1", 1, 1000,
     "partitions of the summary topic when the worker creates it", &conf.summary_partitions},
    {"exit-idle-ms", 0, "AGG_EXIT_IDLE_MS", AGG_OPT_INT, "0", 0, 86400000,
     "stop after this long without messages (0 = never; for batch jobs and tests)",
     &conf.exit_idle_ms},
    {"quarter", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "replay: the quarter to recompute, e.g. 2024-Q2", &conf.replay_quarter},
    {"verify", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "replay: print every difference from the live keys, swap nothing; exit 1 if any",
     &conf.replay_verify},
    {"json", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0, "replay: the result as one JSON line on stdout",
     &conf.replay_json},
    {"replay-lock-ms", 0, "AGG_REPLAY_LOCK_MS", AGG_OPT_INT, "30000", 1000, 3600000,
     "replay: its lock expires this long after the replay stopped renewing it (a crash)",
     &conf.replay_lock_ms},
    {"replay-path", 0, "AGG_REPLAY_PATH", AGG_OPT_STRING, "auto", 0, 0,
     "replay: memory (the quarter computed in memory, staging keys written in bulk), "
     "batches (the live worker loop on staging keys), or auto (memory, else batches)",
     &conf.replay_path},
    {"replay-memory-mb", 0, "AGG_REPLAY_MEMORY_MB", AGG_OPT_INT, "2048", 1, 1048576,
     "replay: the memory path's bound; a larger quarter takes the batches path",
     &conf.replay_memory_mb},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &conf.quiet},
    {"verbose", 'v', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log every batch", &conf.verbose},
    {0},
};

static const char description[] =
    "\n"
    "Consumes every quarter topic (<topic-prefix>YYYY-Qn) in a consumer group and keeps\n"
    "the aggregates of SPEC section 5 in Redis, effectively once. Invalid messages go to\n"
    "the DLQ topic. librdkafka properties: -X key=value, -F file.properties.\n"
    "Exit codes: 0 stopped gracefully, 1 fatal error, 2 usage.\n"
    "\n"
    "agg-worker replay --quarter YYYY-Qn [--verify] [--json] recomputes the quarter from\n"
    "its topic into staging keys and swaps them in atomically (live workers hold the\n"
    "quarter meanwhile); --verify prints every difference instead. Exit codes: 0 done\n"
    "(or equal), 1 different or failed, 2 usage.\n";

int main(int argc, char **argv) {
    char err[512];
    int first_arg = 0;
    /* "replay" is a subcommand only in first position. */
    bool replay = argc >= 2 && strcmp(argv[1], "replay") == 0;
    if (replay) {
        argc--;
        argv++;
    }

    int rc = agg_opts_parse(options, argc, argv, &first_arg, &conf.kprops, err, sizeof err);
    if (rc == 1) {
        fputs(description, stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "agg-worker: %s\n(try --help)\n", err);
        return 2;
    }
    if (first_arg < argc) {
        fprintf(stderr, "agg-worker: unexpected argument '%s'\n(try --help)\n",
                argv[first_arg]);
        return 2;
    }
    if (conf.quiet)
        agg_log_level = AGG_LOG_WARN;
    if (conf.verbose)
        agg_log_level = AGG_LOG_DEBUG;
    if (agg_redis_url_parse(conf.redis_url, &conf.redis, err, sizeof err) != 0) {
        fprintf(stderr, "agg-worker: --redis-url: %s\n", err);
        return 2;
    }
    if (agg_check_topic_prefix(conf.topic_prefix, err, sizeof err) != 0 ||
        agg_check_key_prefix(conf.key_prefix, conf.topic_prefix, err, sizeof err) != 0) {
        fprintf(stderr, "agg-worker: %s\n", err);
        return 2;
    }
    /* Both fit: the prefix check bounds the prefix by the longest suffix. */
    if (!conf.dlq_topic) {
        snprintf(conf.dlq_topic_buf, sizeof conf.dlq_topic_buf, "%sdlq", conf.topic_prefix);
        conf.dlq_topic = conf.dlq_topic_buf;
    }
    if (!conf.summary_topic) {
        snprintf(conf.summary_topic_buf, sizeof conf.summary_topic_buf, "%ssummaries",
                 conf.topic_prefix);
        conf.summary_topic = conf.summary_topic_buf;
    }
    /* The reference list checks records (unless --no-region-check) and is the list of
     * regions a quarter's completeness expects. */
    int lrc = conf.regions_file
                  ? agg_regions_load(&conf.regions, conf.regions_file, err, sizeof err)
                  : agg_regions_load_default(&conf.regions, err, sizeof err);
    if (lrc != 0) {
        fprintf(stderr, "agg-worker: regions: %s\n", err);
        return 2;
    }
    size_t j = 0;
    for (size_t i = 0; i < conf.regions.count; i++) {
        int n = snprintf(conf.expected_regions_csv + j, sizeof conf.expected_regions_csv - j,
                         "%s%s", i ? "," : "", conf.regions.code[i]);
        if (n < 0 || (size_t)n >= sizeof conf.expected_regions_csv - j)
            break; /* cannot happen: the buffer holds AGG_REGIONS_MAX codes */
        j += (size_t)n;
    }
    if (strcmp(conf.late_policy, "amend") != 0 && strcmp(conf.late_policy, "reject") != 0) {
        fprintf(stderr, "agg-worker: --late-policy: \"%s\" is neither amend nor reject\n",
                conf.late_policy);
        return 2;
    }
    conf.late_reject = strcmp(conf.late_policy, "reject") == 0;
    if (strcmp(conf.replay_path, "auto") != 0 && strcmp(conf.replay_path, "memory") != 0 &&
        strcmp(conf.replay_path, "batches") != 0) {
        fprintf(stderr, "agg-worker: --replay-path: \"%s\" is not auto, memory or batches\n",
                conf.replay_path);
        return 2;
    }
    if (agg_deadlines_init(&conf.deadlines, (int)conf.deadline_day, conf.deadline_list, err,
                           sizeof err) != 0) {
        fprintf(stderr, "agg-worker: --deadlines: %s\n", err);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        perror("agg-worker: sigaction");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (replay)
        return replay_main(&conf);
    if (conf.replay_quarter || conf.replay_verify || conf.replay_json) {
        fprintf(stderr, "agg-worker: --quarter, --verify and --json are options of "
                        "'agg-worker replay'\n(try --help)\n");
        return 2;
    }
    return worker_run(&conf);
}
