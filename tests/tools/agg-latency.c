/* agg-latency: end-to-end latency of the pipeline, and the worker's apply rate.
 *
 *   agg-latency -b BOOT -r REDIS_URL --topic T --key-prefix K
 *               [--rate 5000] [--seconds 30] [--warmup-seconds 3]
 *       Produces fresh report records to T at a steady rate, notes each message's
 *       produce time by (partition, offset) from the delivery reports, and polls the
 *       worker's stored offsets (K:internal:offsets:T) every --poll-us. A record is
 *       visible in Redis when its partition's stored next offset passes it: the worker
 *       moves that offset in the same atomic step as the aggregates. Latency = time of
 *       the poll that first sees it - time of the produce call (linger and broker
 *       included). Records of the warm-up are left out of the percentiles.
 *
 *   agg-latency --watch -r REDIS_URL --topic T --key-prefix K --records N
 *       Polls the same hash until its offsets sum to N (every message of a topic that
 *       started at offset 0 applied). Rate = (N - sum at the first non-zero poll) /
 *       (time sum reached N - time of that poll), the worker's counterpart of
 *       agg-ceiling's first-to-last rate.
 *
 * stdout: one JSON line. Exit codes: 0 done, 1 error or timeout, 2 usage. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg/codec.h"
#include "agg/config.h"
#include "agg/kafka.h"
#include "agg/keys.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/record.h"
#include "agg/regions.h"

#define MAX_PARTITIONS 1024

static struct {
    const char *bootstrap, *redis_url, *topic, *key_prefix, *samples;
    long rate, seconds, warmup_seconds, settle_seconds, poll_us, records, timeout_s,
        partitions;
    bool watch, quiet;
    agg_kprops_t kprops;
} opt;

static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &opt.bootstrap},
    {"redis-url", 'r', "AGG_REDIS_URL", AGG_OPT_STRING, "redis://127.0.0.1:6379/0", 0, 0,
     "Redis: redis://[user:pass@]host:port[/db]", &opt.redis_url},
    {"topic", 't', NULL, AGG_OPT_STRING, NULL, 0, 0, "quarter topic, <prefix>YYYY-Qn",
     &opt.topic},
    {"key-prefix", 0, "AGG_KEY_PREFIX", AGG_OPT_STRING, "agg", 0, 0,
     "the worker's Redis key prefix", &opt.key_prefix},
    {"rate", 0, NULL, AGG_OPT_INT, "5000", 1, 1000000, "records per second",
     &opt.rate},
    {"seconds", 0, NULL, AGG_OPT_INT, "30", 1, 3600, "how long to produce",
     &opt.seconds},
    {"warmup-seconds", 0, NULL, AGG_OPT_INT, "3", 0, 3600,
     "records of the first seconds are not counted", &opt.warmup_seconds},
    {"settle-seconds", 0, NULL, AGG_OPT_INT, "30", 1, 3600,
     "after producing, wait at most this long for the last records", &opt.settle_seconds},
    {"poll-us", 0, NULL, AGG_OPT_INT, "1000", 100, 1000000,
     "how often the stored offsets are read", &opt.poll_us},
    {"samples", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "write every record's \"seq send_ms partition latency_ms\" here (for plots)",
     &opt.samples},
    {"partitions", 0, NULL, AGG_OPT_INT, "6", 1, MAX_PARTITIONS,
     "partitions when the topic is created", &opt.partitions},
    {"watch", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "only watch the stored offsets until they sum to --records", &opt.watch},
    {"records", 'n', NULL, AGG_OPT_INT, "0", 0, 1000000000,
     "--watch: messages the topic holds", &opt.records},
    {"timeout-s", 0, NULL, AGG_OPT_INT, "600", 1, 86400, "--watch: give up after this long",
     &opt.timeout_s},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &opt.quiet},
    {0},
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until_us(int64_t t) {
    struct timespec ts = {(time_t)(t / 1000000), (long)(t % 1000000) * 1000};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* ---------------------------------------------------------------- stored offsets */

typedef struct {
    redisContext *c;
    char key[AGG_KEY_MAX];
    int64_t next[MAX_PARTITIONS]; /* stored next offset per partition, 0 = none yet */
    unsigned long long polls;
} offsets_t;

static int offsets_open(offsets_t *o, const agg_redis_url_t *u, char *errstr,
                        size_t errsz) {
    struct timeval tv = {5, 0};
    memset(o->next, 0, sizeof o->next);
    if (agg_key_offsets(o->key, sizeof o->key, opt.key_prefix, opt.topic) < 0) {
        snprintf(errstr, errsz, "key prefix or topic too long");
        return -1;
    }
    o->c = redisConnectWithTimeout(u->host, u->port, tv);
    if (!o->c || o->c->err) {
        snprintf(errstr, errsz, "connect %s:%d: %s", u->host, u->port,
                 o->c ? o->c->errstr : "out of memory");
        return -1;
    }
    redisReply *r = NULL;
    if (u->password[0]) {
        r = u->user[0] ? redisCommand(o->c, "AUTH %s %s", u->user, u->password)
                       : redisCommand(o->c, "AUTH %s", u->password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(errstr, errsz, "AUTH failed");
            if (r)
                freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    if (u->db) {
        r = redisCommand(o->c, "SELECT %d", u->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(errstr, errsz, "SELECT %d failed", u->db);
            if (r)
                freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

/* One HGETALL of the offsets hash. Returns the sum of the stored offsets, or -1. */
static int64_t offsets_poll(offsets_t *o, char *errstr, size_t errsz) {
    redisReply *r = redisCommand(o->c, "HGETALL %b", o->key, strlen(o->key));
    o->polls++;
    if (!r) {
        snprintf(errstr, errsz, "redis: %s", o->c->errstr);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(errstr, errsz, "HGETALL %s: %s", o->key,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return -1;
    }
    int64_t sum = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        long p = strtol(r->element[i]->str, NULL, 10);
        int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
        if (p >= 0 && p < MAX_PARTITIONS)
            o->next[p] = v;
        sum += v;
    }
    freeReplyObject(r);
    return sum;
}

/* ---------------------------------------------------------------- watch mode */

static int run_watch(offsets_t *o) {
    char err[256];
    int64_t start = mono_us(), first = 0, last = 0, sum = 0, first_sum = 0;
    int64_t deadline = start + (int64_t)opt.timeout_s * 1000000;
    int64_t tick = start;
    while (mono_us() < deadline) {
        if ((sum = offsets_poll(o, err, sizeof err)) < 0) {
            fprintf(stderr, "agg-latency: %s\n", err);
            return 1;
        }
        int64_t now = mono_us();
        if (sum > 0 && first == 0) {
            first = now;
            first_sum = sum;
        }
        if (sum >= opt.records) {
            last = now;
            break;
        }
        tick += opt.poll_us;
        sleep_until_us(tick > now ? tick : now);
    }
    double span = (double)(last - first) / 1e6;
    printf("{\"applied\":%" PRId64 ",\"expected\":%ld,\"first_applied\":%" PRId64
           ",\"wait_seconds\":%.3f,\"seconds\":%.3f,\"rate\":%.0f,\"polls\":%llu}\n",
           sum, opt.records, first_sum, first ? (double)(first - start) / 1e6 : 0.0,
           last ? span : 0.0,
           last && span > 0 ? (double)(opt.records - first_sum) / span : 0.0, o->polls);
    if (!last) {
        fprintf(stderr, "agg-latency: only %" PRId64 " of %ld messages applied within %ld s\n",
                sum, opt.records, opt.timeout_s);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- latency mode */

typedef struct {
    int64_t offset;
    uint32_t seq;
} sent_t;

typedef struct {
    sent_t *v;
    size_t n, head, cap;
} pqueue_t; /* one partition's delivered messages, in offset order */

typedef struct {
    pqueue_t q[MAX_PARTITIONS];
    unsigned long long delivered, failed;
    char first_error[256];
} deliveries_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    deliveries_t *d = opaque;
    (void)rk;
    if (m->err || m->partition < 0 || m->partition >= MAX_PARTITIONS) {
        if (d->failed++ == 0)
            snprintf(d->first_error, sizeof d->first_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    pqueue_t *q = &d->q[m->partition];
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4096;
        sent_t *nv = realloc(q->v, ncap * sizeof *nv);
        if (!nv) {
            d->failed++;
            return;
        }
        q->v = nv;
        q->cap = ncap;
    }
    q->v[q->n].offset = m->offset;
    q->v[q->n].seq = (uint32_t)(uintptr_t)m->_private - 1;
    q->n++;
    d->delivered++;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5); /* nearest rank */
    return v[i] / 1000.0;
}

/* A fresh, valid record per sequence number: unique indicator, content from a cheap
 * hash (the latency does not depend on the values, only on their being applied). */
static void make_record(const agg_regions_t *regions, int year, int quarter, uint32_t seq,
                        agg_record_t *r) {
    static const char *const goals[] = {"1", "3", "4", "5", "6", "6.1", "6.2",
                                        "6.3", "6.4", "7", "8", "10", "11"};
    uint64_t h = (uint64_t)seq * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    memset(r, 0, sizeof *r);
    snprintf(r->region, sizeof r->region, "%s", regions->code[h % regions->count]);
    snprintf(r->goal, sizeof r->goal, "%s", goals[(h >> 8) % 13]);
    snprintf(r->indicator, sizeof r->indicator, "lat.%" PRIu32, seq);
    r->year = year;
    r->quarter = quarter;
    r->unit = (agg_unit_t)((h >> 16) % 3);
    r->revision = 1;
    r->has_target = r->has_achieved = r->has_completion = true;
    r->target_x100 = (int64_t)((h >> 20) % 1000000);
    r->achieved_x100 = r->target_x100 / 2;
    r->completion_x100 = (int32_t)((h >> 40) % 15000);
    r->submitted_ms = agg_now_ms();
    r->title = "latency probe";
    r->title_len = 13;
}

static int run_latency(offsets_t *o) {
    char err[512];
    agg_regions_t regions;
    int year, quarter;
    size_t tl = strlen(opt.topic);
    if (tl < AGG_QUARTER_ID_LEN ||
        agg_quarter_parse(opt.topic + tl - AGG_QUARTER_ID_LEN, AGG_QUARTER_ID_LEN, &year,
                          &quarter) != 0) {
        fprintf(stderr, "agg-latency: --topic must end in a quarter id YYYY-Qn\n");
        return 2;
    }
    if (agg_regions_load_default(&regions, err, sizeof err) != 0) {
        fprintf(stderr, "agg-latency: regions: %s\n", err);
        return 1;
    }

    /* Low-latency producer settings (a short linger), idempotent like agg-produce. */
    static const char *const defaults[] = {
        "enable.idempotence", "true",
        "linger.ms", "5",
        NULL,
    };
    static deliveries_t d; /* large: kept off the stack */
    rd_kafka_conf_t *kc = agg_kafka_conf_new(opt.bootstrap, defaults, &opt.kprops, err,
                                             sizeof err);
    if (!kc) {
        fprintf(stderr, "agg-latency: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    rd_kafka_conf_set_opaque(kc, &d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "agg-latency: %s\n", err);
        rd_kafka_conf_destroy(kc);
        return 1;
    }
    int nparts = agg_kafka_ensure_topic(rk, opt.topic, (int)opt.partitions, -1, 30000, err,
                                        sizeof err);
    if (nparts < 0) {
        fprintf(stderr, "agg-latency: %s\n", err);
        rd_kafka_destroy(rk);
        return 1;
    }

    size_t total = (size_t)opt.rate * (size_t)opt.seconds;
    size_t warmup = (size_t)opt.rate * (size_t)opt.warmup_seconds;
    int64_t *send_us = calloc(total, sizeof *send_us);
    uint32_t *lat_us = calloc(total, sizeof *lat_us);
    if (!send_us || !lat_us) {
        fprintf(stderr, "agg-latency: out of memory\n");
        free(send_us);
        free(lat_us);
        rd_kafka_destroy(rk);
        return 1;
    }

    FILE *samples = NULL;
    if (opt.samples && !(samples = fopen(opt.samples, "w"))) {
        perror(opt.samples);
        free(send_us);
        free(lat_us);
        rd_kafka_destroy(rk);
        return 1;
    }
    size_t produced = 0, seen = 0, nlat = 0;
    int exit_code = 0;
    int64_t t0 = mono_us(), tick = t0, produce_end = 0, max_behind_us = 0;
    int64_t deadline = t0 + ((int64_t)opt.seconds + opt.settle_seconds) * 1000000;
    while (seen < total) {
        int64_t now = mono_us();
        if (now > deadline) {
            fprintf(stderr, "agg-latency: %zu of %zu records not visible %ld s after the "
                            "last was produced\n",
                    total - seen, total, opt.settle_seconds);
            exit_code = 1;
            break;
        }
        /* Steady rate: catch up to where the clock says we should be. */
        size_t due = (size_t)((now - t0) * opt.rate / 1000000) + 1;
        if (due > total)
            due = total;
        if (produced < due && now - (t0 + (int64_t)produced * 1000000 / opt.rate) > max_behind_us)
            max_behind_us = now - (t0 + (int64_t)produced * 1000000 / opt.rate);
        while (produced < due) {
            agg_record_t r;
            uint8_t *buf = NULL;
            make_record(&regions, year, quarter, (uint32_t)produced, &r);
            long len = agg_encode_report(&r, &buf);
            if (len < 0) {
                fprintf(stderr, "agg-latency: encoding failed\n");
                exit_code = 1;
                break;
            }
            send_us[produced] = mono_us();
            rd_kafka_resp_err_t perr = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(opt.topic), RD_KAFKA_V_KEY(r.region, strlen(r.region)),
                RD_KAFKA_V_VALUE(buf, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(produced + 1)), RD_KAFKA_V_END);
            if (perr) {
                /* At 5,000/s the local queue never fills; any error is a broken run. */
                fprintf(stderr, "agg-latency: produce: %s\n", rd_kafka_err2str(perr));
                free(buf);
                exit_code = 1;
                break;
            }
            produced++;
        }
        if (exit_code)
            break;
        if (produced == total && !produce_end)
            produce_end = mono_us();
        rd_kafka_poll(rk, 0);
        if (d.failed) {
            fprintf(stderr, "agg-latency: delivery failed: %s\n", d.first_error);
            exit_code = 1;
            break;
        }
        if (offsets_poll(o, err, sizeof err) < 0) {
            fprintf(stderr, "agg-latency: %s\n", err);
            exit_code = 1;
            break;
        }
        /* Upper bound of the moment it became visible: after the reply arrived. */
        int64_t vis = mono_us();
        for (int p = 0; p < nparts && p < MAX_PARTITIONS; p++) {
            pqueue_t *q = &d.q[p];
            while (q->head < q->n && q->v[q->head].offset < o->next[p]) {
                uint32_t seq = q->v[q->head].seq;
                if (seq < total) {
                    int64_t l = vis - send_us[seq];
                    if (samples)
                        fprintf(samples, "%" PRIu32 " %.3f %d %.3f\n", seq,
                                (double)(send_us[seq] - t0) / 1000.0, p, (double)l / 1000.0);
                    if (seq >= warmup)
                        lat_us[nlat++] = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
                }
                q->head++;
                seen++;
            }
        }
        tick += opt.poll_us;
        now = mono_us();
        sleep_until_us(tick > now ? tick : now);
    }
    double produce_s = (double)((produce_end ? produce_end : mono_us()) - t0) / 1e6;

    qsort(lat_us, nlat, sizeof *lat_us, cmp_u32);
    double sum = 0;
    for (size_t i = 0; i < nlat; i++)
        sum += lat_us[i];
    printf("{\"rate\":%ld,\"produced\":%zu,\"produce_seconds\":%.3f,\"achieved_rate\":%.0f,"
           "\"max_behind_ms\":%.1f,\"measured\":%zu,\"warmup\":%zu,\"p50_ms\":%.2f,"
           "\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"max_ms\":%.2f,"
           "\"mean_ms\":%.2f,\"polls\":%llu}\n",
           opt.rate, produced, produce_s, produce_s > 0 ? (double)produced / produce_s : 0.0,
           max_behind_us / 1000.0, nlat, warmup, pct_ms(lat_us, nlat, 0.50),
           pct_ms(lat_us, nlat, 0.90), pct_ms(lat_us, nlat, 0.99),
           pct_ms(lat_us, nlat, 0.999), nlat ? lat_us[nlat - 1] / 1000.0 : 0.0,
           nlat ? sum / (double)nlat / 1000.0 : 0.0, o->polls);

    if (samples && fclose(samples) != 0) {
        perror(opt.samples);
        exit_code = exit_code ? exit_code : 1;
    }
    rd_kafka_flush(rk, 10000);
    rd_kafka_destroy(rk);
    for (int p = 0; p < MAX_PARTITIONS; p++)
        free(d.q[p].v);
    free(send_us);
    free(lat_us);
    return exit_code;
}

int main(int argc, char **argv) {
    char err[512];
    int first_arg;
    int rc = agg_opts_parse(options, argc, argv, &first_arg, &opt.kprops, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0 || first_arg < argc || !opt.topic || (opt.watch && opt.records <= 0)) {
        fprintf(stderr, "agg-latency: %s\n(try --help)\n",
                rc ? err : "--topic (and with --watch, --records) is required");
        return 2;
    }
    if (opt.quiet)
        agg_log_level = AGG_LOG_WARN;
    if (opt.warmup_seconds >= opt.seconds && !opt.watch) {
        fprintf(stderr, "agg-latency: --warmup-seconds must be below --seconds\n");
        return 2;
    }
    agg_redis_url_t url;
    if (agg_redis_url_parse(opt.redis_url, &url, err, sizeof err) != 0) {
        fprintf(stderr, "agg-latency: --redis-url: %s\n", err);
        return 2;
    }
    static offsets_t o;
    if (offsets_open(&o, &url, err, sizeof err) != 0) {
        fprintf(stderr, "agg-latency: %s\n", err);
        if (o.c)
            redisFree(o.c);
        return 1;
    }
    rc = opt.watch ? run_watch(&o) : run_latency(&o);
    redisFree(o.c);
    return rc;
}
