/* agg-naive: the obvious per-record Redis sink, as the baseline the worker is compared
 * with (bench/run.sh).
 *
 *   agg-naive -b BOOT -r REDIS_URL --topic T --key-prefix K
 *             [--max-records N] [--max-seconds S]
 *
 * For each message: decode and validate; HGET the record's stored state; if the new
 * revision is higher, one HINCRBY per field and scope to take the old contribution out
 * and put the new one in, then per touched scope an HMGET and an HSET for the average,
 * then HSET the new state. Every command is its own round trip (redisCommand, no
 * pipelining, no batching, no script): what a first version of the sink would do. It
 * writes the same public fields as the worker under its own key prefix; it does not
 * fence zombies or move offsets with the data, and drops amount fields never.
 *
 * Runs on a sample: stops after --max-records messages or --max-seconds, whichever is
 * first. Rate = messages handled / time from the first message to the last one.
 *
 * stdout: one JSON line. Exit codes: 0 done, 1 error, 2 usage. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg/codec.h"
#include "agg/contrib.h"
#include "agg/config.h"
#include "agg/kafka.h"
#include "agg/keys.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/record.h"
#include "agg/regions.h"

static struct {
    const char *bootstrap, *redis_url, *topic, *key_prefix, *group;
    long max_records, max_seconds;
    bool quiet;
    agg_kprops_t kprops;
} opt;

static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &opt.bootstrap},
    {"redis-url", 'r', "AGG_REDIS_URL", AGG_OPT_STRING, "redis://127.0.0.1:6379/0", 0, 0,
     "Redis: redis://[user:pass@]host:port[/db]", &opt.redis_url},
    {"topic", 't', NULL, AGG_OPT_STRING, NULL, 0, 0, "quarter topic to read", &opt.topic},
    {"key-prefix", 0, NULL, AGG_OPT_STRING, "naive", 0, 0, "prefix of every Redis key",
     &opt.key_prefix},
    {"group", 'g', NULL, AGG_OPT_STRING, NULL, 0, 0,
     "consumer group (default: a fresh agg-naive-<pid>-<time>)", &opt.group},
    {"max-records", 'n', NULL, AGG_OPT_INT, "50000", 1, 1000000000,
     "stop after this many messages", &opt.max_records},
    {"max-seconds", 0, NULL, AGG_OPT_INT, "60", 1, 86400,
     "stop after this long (the sample is then smaller)", &opt.max_seconds},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &opt.quiet},
    {0},
};

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- Redis */

typedef struct {
    redisContext *c;
    unsigned long long roundtrips;
    char err[512];
} sink_t;

/* One command, one round trip. Returns the reply (caller frees) or NULL with the
 * reason in s->err: the naive sink has no retry, any error ends the run. */
static redisReply *cmd(sink_t *s, int argc, const char **argv, const size_t *lens) {
    s->roundtrips++;
    redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
    if (!r) {
        snprintf(s->err, sizeof s->err, "redis: %s", s->c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(s->err, sizeof s->err, "redis %s: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static int cmd_ok(sink_t *s, int argc, const char **argv, const size_t *lens) {
    redisReply *r = cmd(s, argc, argv, lens);
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

static int hincrby(sink_t *s, const char *key, const char *field, int64_t delta) {
    char num[32];
    int n = snprintf(num, sizeof num, "%" PRId64, delta);
    const char *argv[] = {"HINCRBY", key, field, num};
    size_t lens[] = {7, strlen(key), strlen(field), (size_t)n};
    return cmd_ok(s, 4, argv, lens);
}

static int redis_open(sink_t *s, const agg_redis_url_t *u) {
    struct timeval tv = {5, 0};
    s->c = redisConnectWithTimeout(u->host, u->port, tv);
    if (!s->c || s->c->err) {
        snprintf(s->err, sizeof s->err, "connect %s:%d: %s", u->host, u->port,
                 s->c ? s->c->errstr : "out of memory");
        return -1;
    }
    if (u->password[0]) {
        const char *argv[] = {"AUTH", u->user[0] ? u->user : u->password, u->password};
        size_t lens[] = {4, strlen(argv[1]), strlen(u->password)};
        if (cmd_ok(s, u->user[0] ? 3 : 2, argv, lens))
            return -1;
    }
    if (u->db) {
        char db[16];
        int n = snprintf(db, sizeof db, "%d", u->db);
        const char *argv[] = {"SELECT", db};
        size_t lens[] = {6, (size_t)n};
        if (cmd_ok(s, 2, argv, lens))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- contributions */

/* One HINCRBY per field of the contribution, in each of its four scopes, then the
 * average of each scope re-read and rewritten. */
static int apply_contrib(sink_t *s, const char *qid, const char *region,
                         const agg_contrib_t *c, int sign, long long now_ms) {
    char keys[4][AGG_KEY_MAX];
    const char *regions[4] = {NULL, NULL, region, region};
    const char *gls[4] = {NULL, c->goal, NULL, c->goal};
    for (int k = 0; k < 4; k++) {
        const char *key = keys[k];
        if (agg_key_scope(keys[k], sizeof keys[k], opt.key_prefix, qid, regions[k], gls[k]) < 0) {
            snprintf(s->err, sizeof s->err, "key too long");
            return -1;
        }
        /* The rule of lib/contrib.c, one HINCRBY per field it moves; an amount is
         * written (0 included) whenever the record carries it, as the worker does. */
        int64_t d[AGG_F__N] = {0};
        if (agg_contrib_add(d, c, sign) != 0) {
            snprintf(s->err, sizeof s->err, "int64 overflow");
            return -1;
        }
        for (int f = 0; f < AGG_F_AMOUNT_COUNT; f++) {
            bool carried = f >= AGG_F_AMOUNT && d[f + 6] != 0;
            if ((d[f] != 0 || carried) && hincrby(s, key, agg_field_names[f], d[f]))
                return -1;
        }
        const char *hm[] = {"HMGET", key, "assessed", "completion_sum_x100"};
        size_t hml[] = {5, strlen(key), 8, 19};
        redisReply *r = cmd(s, 4, hm, hml);
        if (!r)
            return -1;
        long long assessed = 0, sum = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
            if (r->element[0]->type == REDIS_REPLY_STRING)
                assessed = strtoll(r->element[0]->str, NULL, 10);
            if (r->element[1]->type == REDIS_REPLY_STRING)
                sum = strtoll(r->element[1]->str, NULL, 10);
        }
        freeReplyObject(r);
        char avg[32], now[32];
        int nl = snprintf(now, sizeof now, "%lld", now_ms);
        if (assessed > 0) {
            int al = agg_format_x100(agg_completion_avg_x100(sum, assessed), avg, sizeof avg);
            const char *hs[] = {"HSET", key, "completion_avg", avg, "updated_ms", now};
            size_t hsl[] = {4, strlen(key), 14, (size_t)al, 10, (size_t)nl};
            if (cmd_ok(s, 6, hs, hsl))
                return -1;
        } else {
            const char *hs[] = {"HSET", key, "updated_ms", now};
            size_t hsl[] = {4, strlen(key), 10, (size_t)nl};
            if (cmd_ok(s, 4, hs, hsl))
                return -1;
        }
    }
    return 0;
}

/* Returns 1 when the record changed the aggregates, 0 when it was not newer, -1 on a
 * Redis error. */
static int sink_record(sink_t *s, const agg_record_t *r) {
    char qid[AGG_QUARTER_ID_LEN + 1], state_key[AGG_KEY_MAX], state[AGG_CONTRIB_STATE_MAX];
    if (agg_quarter_format(r->year, r->quarter, qid, sizeof qid) != 0 ||
        agg_key_records(state_key, sizeof state_key, opt.key_prefix, qid, r->region) < 0) {
        snprintf(s->err, sizeof s->err, "bad quarter or key");
        return -1;
    }
    const char *hg[] = {"HGET", state_key, r->indicator};
    size_t hgl[] = {4, strlen(state_key), strlen(r->indicator)};
    redisReply *rep = cmd(s, 3, hg, hgl);
    if (!rep)
        return -1;
    agg_contrib_t old, nc;
    bool has_old = rep->type == REDIS_REPLY_STRING && agg_contrib_parse(rep->str, rep->len, &old) == 0;
    freeReplyObject(rep);
    if (has_old && old.revision >= r->revision)
        return 0;
    long long now = agg_now_ms();
    agg_contrib_of(r, &nc);
    if (has_old && apply_contrib(s, qid, r->region, &old, -1, now))
        return -1;
    if (apply_contrib(s, qid, r->region, &nc, +1, now))
        return -1;
    size_t sl = agg_contrib_format(&nc, state);
    const char *hs[] = {"HSET", state_key, r->indicator, state};
    size_t hsl[] = {4, strlen(state_key), strlen(r->indicator), sl};
    return cmd_ok(s, 4, hs, hsl) ? -1 : 1;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    char err[512], group[128];
    int first_arg;
    int rc = agg_opts_parse(options, argc, argv, &first_arg, &opt.kprops, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0 || first_arg < argc || !opt.topic) {
        fprintf(stderr, "agg-naive: %s\n(try --help)\n", rc ? err : "--topic is required");
        return 2;
    }
    if (opt.quiet)
        agg_log_level = AGG_LOG_WARN;
    agg_redis_url_t url;
    agg_regions_t regions;
    if (agg_redis_url_parse(opt.redis_url, &url, err, sizeof err) != 0) {
        fprintf(stderr, "agg-naive: --redis-url: %s\n", err);
        return 2;
    }
    if (agg_regions_load_default(&regions, err, sizeof err) != 0) {
        fprintf(stderr, "agg-naive: regions: %s\n", err);
        return 1;
    }
    if (!opt.group) {
        snprintf(group, sizeof group, "agg-naive-%d-%lld", (int)getpid(), agg_now_ms());
        opt.group = group;
    }

    sink_t s = {0};
    if (redis_open(&s, &url) != 0) {
        fprintf(stderr, "agg-naive: %s\n", s.err);
        if (s.c)
            redisFree(s.c);
        return 1;
    }
    static const char *const defaults[] = {
        "auto.offset.reset", "earliest",
        "enable.auto.commit", "false",
        "enable.partition.eof", "false",
        NULL,
    };
    rd_kafka_conf_t *kc = agg_kafka_conf_new(opt.bootstrap, defaults, &opt.kprops, err,
                                             sizeof err);
    if (!kc || rd_kafka_conf_set(kc, "group.id", opt.group, err, sizeof err) !=
                   RD_KAFKA_CONF_OK) {
        fprintf(stderr, "agg-naive: %s\n", err);
        if (kc)
            rd_kafka_conf_destroy(kc);
        redisFree(s.c);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "agg-naive: %s\n", err);
        rd_kafka_conf_destroy(kc);
        redisFree(s.c);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, opt.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (serr) {
        fprintf(stderr, "agg-naive: subscribe %s: %s\n", opt.topic, rd_kafka_err2str(serr));
        rd_kafka_destroy(rk);
        redisFree(s.c);
        return 1;
    }

    agg_arena_t arena;
    if (agg_arena_init(&arena, 64 * 1024) != 0) {
        fprintf(stderr, "agg-naive: out of memory\n");
        rd_kafka_destroy(rk);
        redisFree(s.c);
        return 1;
    }
    long count = 0, applied = 0, invalid = 0;
    double start = mono_s(), first = 0, last = 0;
    /* The join takes a few seconds; the sample's time budget starts at the first
     * message, with a generous bound on the wait for it. */
    double deadline = start + (double)opt.max_seconds + 60;
    int exit_code = 0;
    while (count < opt.max_records) {
        double now = mono_s();
        if (now > deadline || (first > 0 && now - first > (double)opt.max_seconds))
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            fprintf(stderr, "agg-naive: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (count == 0)
            first = mono_s();
        count++;
        agg_msg_t msg;
        char why[256];
        agg_arena_reset(&arena);
        if (agg_decode(m->payload, m->len, &arena, &msg, why, sizeof why) != 0 ||
            msg.kind != AGG_MSG_REPORT ||
            agg_record_validate(&msg.record, &regions, NULL, why, sizeof why) != 0) {
            invalid++;
        } else {
            int src = sink_record(&s, &msg.record);
            if (src < 0) {
                fprintf(stderr, "agg-naive: %s\n", s.err);
                exit_code = 1;
                rd_kafka_message_destroy(m);
                break;
            }
            applied += src;
        }
        last = mono_s();
        rd_kafka_message_destroy(m);
    }
    if (count == 0) {
        fprintf(stderr, "agg-naive: no message within %ld s\n", opt.max_seconds + 60);
        exit_code = 1;
    }
    double span = last - first;
    printf("{\"messages\":%ld,\"applied\":%ld,\"invalid\":%ld,\"seconds\":%.3f,"
           "\"rate\":%.1f,\"roundtrips\":%llu,\"roundtrips_per_message\":%.1f}\n",
           count, applied, invalid, span, span > 0 ? (double)count / span : 0.0,
           s.roundtrips, count ? (double)s.roundtrips / (double)count : 0.0);
    agg_arena_free(&arena);
    rd_kafka_resp_err_t cerr = rd_kafka_consumer_close(rk);
    if (cerr)
        fprintf(stderr, "agg-naive: close: %s\n", rd_kafka_err2str(cerr));
    rd_kafka_destroy(rk);
    redisFree(s.c);
    return exit_code;
}
