/* agg-ceiling: the speed limit of consuming a topic on this stack.
 *
 *   agg-ceiling -b BOOT --topic T --records N [--group G] [--timeout-s S]
 *
 * A bare high-level consumer (fresh group, auto.offset.reset=earliest, librdkafka's
 * default fetch settings, as the worker uses) that reads the topic and does nothing
 * with the messages but count them. Its rate, taken side by side with the worker's in
 * one run, is the ceiling the worker is measured against.
 *
 * Rate = (N - 1) / (time of message N - time of message 1): the group join and the
 * first fetch are left out, as they are for the worker's rate.
 *
 * stdout: one JSON line. Exit codes: 0 N messages read, 1 error or timeout, 2 usage. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg/config.h"
#include "agg/kafka.h"
#include "agg/log.h"

static struct {
    const char *bootstrap, *topic, *group;
    long records, timeout_s;
    bool quiet;
    agg_kprops_t kprops;
} opt;

static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &opt.bootstrap},
    {"topic", 't', NULL, AGG_OPT_STRING, NULL, 0, 0, "topic to read", &opt.topic},
    {"records", 'n', NULL, AGG_OPT_INT, NULL, 1, 1000000000, "messages to read",
     &opt.records},
    {"group", 'g', NULL, AGG_OPT_STRING, NULL, 0, 0,
     "consumer group (default: a fresh agg-ceiling-<pid>-<time>)", &opt.group},
    {"timeout-s", 0, NULL, AGG_OPT_INT, "600", 1, 86400,
     "give up after this long", &opt.timeout_s},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &opt.quiet},
    {0},
};

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    char err[512], group[128];
    int first_arg;
    int rc = agg_opts_parse(options, argc, argv, &first_arg, &opt.kprops, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0 || first_arg < argc || !opt.topic || opt.records <= 0) {
        fprintf(stderr, "agg-ceiling: %s\n(try --help)\n",
                rc ? err : "--topic and --records are required");
        return 2;
    }
    if (opt.quiet)
        agg_log_level = AGG_LOG_WARN;
    if (!opt.group) {
        snprintf(group, sizeof group, "agg-ceiling-%d-%lld", (int)getpid(), agg_now_ms());
        opt.group = group;
    }

    static const char *const defaults[] = {
        "auto.offset.reset", "earliest",
        "enable.auto.commit", "false", /* a one-off group: nothing to resume */
        "enable.partition.eof", "false",
        NULL,
    };
    rd_kafka_conf_t *kc = agg_kafka_conf_new(opt.bootstrap, defaults, &opt.kprops, err,
                                             sizeof err);
    if (!kc) {
        fprintf(stderr, "agg-ceiling: %s\n", err);
        return 1;
    }
    if (rd_kafka_conf_set(kc, "group.id", opt.group, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "agg-ceiling: group.id: %s\n", err);
        rd_kafka_conf_destroy(kc);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "agg-ceiling: %s\n", err);
        rd_kafka_conf_destroy(kc);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, opt.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (serr) {
        fprintf(stderr, "agg-ceiling: subscribe %s: %s\n", opt.topic, rd_kafka_err2str(serr));
        rd_kafka_destroy(rk);
        return 1;
    }

    long count = 0;
    unsigned long long bytes = 0;
    double start = mono_s(), first = 0, last = 0, deadline = start + (double)opt.timeout_s;
    int exit_code = 0;
    while (count < opt.records) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if (mono_s() > deadline) {
                fprintf(stderr, "agg-ceiling: timeout after %ld s with %ld of %ld messages\n",
                        opt.timeout_s, count, opt.records);
                exit_code = 1;
                break;
            }
            continue;
        }
        if (m->err) {
            /* Transient errors are retried by librdkafka; a fatal one ends the run. */
            fprintf(stderr, "agg-ceiling: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_message_destroy(m);
                exit_code = 1;
                break;
            }
        } else {
            if (count == 0)
                first = mono_s();
            count++;
            bytes += m->len + m->key_len;
            if (count == opt.records)
                last = mono_s();
        }
        rd_kafka_message_destroy(m);
    }
    double span = last - first;
    printf("{\"messages\":%ld,\"bytes\":%llu,\"startup_seconds\":%.3f,\"seconds\":%.3f,"
           "\"rate\":%.0f}\n",
           count, bytes, first > 0 ? first - start : 0.0, span,
           span > 0 && count > 1 ? (double)(count - 1) / span : 0.0);
    rd_kafka_resp_err_t cerr = rd_kafka_consumer_close(rk);
    if (cerr)
        fprintf(stderr, "agg-ceiling: close: %s\n", rd_kafka_err2str(cerr));
    rd_kafka_destroy(rk);
    return exit_code;
}
