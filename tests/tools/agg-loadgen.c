/* agg-loadgen: deterministic load for the benchmarks (bench/run.sh).
 *
 *   agg-loadgen -b BOOT --topic PREFIXYYYY-Qn --records N --seed S
 *               [--corrections 0.2] [--duplicates 0.05] [--rate R]
 *               [--expect-file F] [--csv-out F] [--dry-run]
 *
 * Writes N report messages to one quarter topic: fresh records spread over the 30
 * reference regions x the 13 objectives of reference/goals.csv x many indicators per
 * region, plus a chosen share of corrections (an earlier identity again with the next
 * revision, sometimes moved to another goal or unit) and of duplicates (an earlier
 * identity again with its current revision and the same content).
 *
 * Determinism: every byte comes from the seed (splitmix64), never from the clock, so
 * the same seed and options give the same messages in the same order; the FNV-1a hash
 * of all keys and values printed at the end proves it (--dry-run computes it without a
 * broker).
 *
 * --expect-file writes the fields the quarter's total hash must hold afterwards (latest
 * revision per identity; SPEC 5), "field value" per line, updated_ms left out.
 * --csv-out writes the same records as canonical CSV (SPEC 3) in publish order, for the
 * independent checker tests/reference.py.
 *
 * stdout: one JSON line with the counts, the hash and the produce rate.
 * Exit codes: 0 every message acknowledged, 1 error, 2 usage, 3 delivery failure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg/codec.h"
#include "agg/contrib.h"
#include "agg/hash.h"
#include "agg/config.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/record.h"
#include "agg/regions.h"

/* The objective codes of reference/goals.csv. Built in rather than read at run time so
 * the bytes cannot depend on the working directory; keep in step with the file. */
static const char *const goals[] = {"1", "3", "4", "5", "6", "6.1", "6.2",
                                    "6.3", "6.4", "7", "8", "10", "11"};
#define NGOALS (sizeof goals / sizeof *goals)

static const char *const words[] = {
    "share",    "of",       "insured",  "employers", "inspected", "contribution",
    "revenue",  "pension",  "benefit",  "paid",      "on",        "time",
    "digital",  "services", "arrears",  "recovered", "citizens",  "trained",
    "quarterly", "plan",    "coverage", "objects",   "audit",     "findings",
};
#define NWORDS (sizeof words / sizeof *words)

static struct {
    const char *bootstrap, *topic, *seed_s, *corrections_s, *duplicates_s, *expect_file,
        *csv_out;
    long records, rate, partitions, flush_timeout_s;
    bool dry_run, quiet;
    agg_kprops_t kprops;
} opt;

static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &opt.bootstrap},
    {"topic", 't', NULL, AGG_OPT_STRING, NULL, 0, 0,
     "quarter topic to write, <prefix>YYYY-Qn (created when missing)", &opt.topic},
    {"records", 'n', NULL, AGG_OPT_INT, "100000", 0, 100000000,
     "messages to write (0 = only create the topic)", &opt.records},
    {"seed", 's', NULL, AGG_OPT_STRING, "1", 0, 0, "PRNG seed (unsigned 64-bit)",
     &opt.seed_s},
    {"corrections", 0, NULL, AGG_OPT_STRING, "0.2", 0, 0,
     "share of messages that correct an earlier record (next revision)",
     &opt.corrections_s},
    {"duplicates", 0, NULL, AGG_OPT_STRING, "0.05", 0, 0,
     "share of messages that repeat an earlier record's latest revision",
     &opt.duplicates_s},
    {"rate", 0, NULL, AGG_OPT_INT, "0", 0, 10000000,
     "messages per second (0 = as fast as the broker takes them)", &opt.rate},
    {"partitions", 0, NULL, AGG_OPT_INT, "6", 1, 1000,
     "partitions when the topic is created", &opt.partitions},
    {"expect-file", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "write the expected total hash (field value per line) here", &opt.expect_file},
    {"csv-out", 0, NULL, AGG_OPT_STRING, NULL, 0, 0,
     "also write the records as canonical CSV here", &opt.csv_out},
    {"dry-run", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0,
     "generate and hash only; no broker", &opt.dry_run},
    {"flush-timeout-s", 0, NULL, AGG_OPT_INT, "300", 1, 86400,
     "give up waiting for acknowledgements after this long", &opt.flush_timeout_s},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &opt.quiet},
    {0},
};

/* ---------------------------------------------------------------- randomness */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A record's content is a pure function of (seed, identity, revision): a duplicate or
 * the expected totals can be rebuilt from those three numbers without storing it. */
static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t s = a ^ (b * 0xD1B54A32D192ED03ULL);
    return splitmix64(&s);
}

/* ---------------------------------------------------------------- records */

typedef struct {
    uint64_t seed;
    agg_regions_t regions;
    int year, quarter;
    int64_t base_ms; /* first day of the quarter, UTC */
} gen_t;

/* count 40 %, person 20 %, mnt 20 %, pct 10 %, text 10 % */
static agg_unit_t pick_unit(uint64_t h) {
    unsigned p = (unsigned)(h % 100);
    return p < 40 ? AGG_UNIT_COUNT
         : p < 60 ? AGG_UNIT_PERSON
         : p < 80 ? AGG_UNIT_MNT
         : p < 90 ? AGG_UNIT_PCT
                  : AGG_UNIT_TEXT;
}

/* Largest target per unit, x100: realistic magnitudes that keep every scope sum far
 * from int64 overflow even at 100 M records. */
static int64_t unit_max_x100(agg_unit_t u) {
    switch (u) {
    case AGG_UNIT_MNT:
        return 100000000000LL; /* 10^9 tugrik */
    case AGG_UNIT_PERSON:
        return 100000000LL; /* 10^6 people */
    case AGG_UNIT_PCT:
        return 10000;
    default:
        return 10000000LL; /* 10^5 things */
    }
}

/* Fills r (and title, which r borrows) with revision rev of identity id. */
static void make_record(const gen_t *g, uint32_t id, uint32_t rev, agg_record_t *r,
                        char *title, size_t titlesz) {
    uint64_t hi = mix(g->seed, id);  /* fixed for every revision of the identity */
    uint64_t hv = mix(hi, rev);      /* this revision's content */
    size_t goal0 = (size_t)((hi >> 8) % NGOALS), goal = goal0;
    agg_unit_t unit = pick_unit(hi >> 16);

    memset(r, 0, sizeof *r);
    snprintf(r->region, sizeof r->region, "%s", g->regions.code[hi % g->regions.count]);
    /* A correction sometimes moves the record to another goal (1 in 4) or unit (1 in 8):
     * the worker must then take it out of the old scopes. */
    if (rev > 1 && (hv & 3) == 0)
        goal = (goal0 + 1 + (size_t)((hv >> 2) % (NGOALS - 1))) % NGOALS;
    if (rev > 1 && ((hv >> 8) & 7) == 0)
        unit = pick_unit(hv >> 12);
    snprintf(r->goal, sizeof r->goal, "%s", goals[goal]);
    /* The identity's first goal names it, like the real codes (6.1.2 under goal 6.1). */
    snprintf(r->indicator, sizeof r->indicator, "%s.%" PRIu32, goals[goal0], id);
    r->year = g->year;
    r->quarter = g->quarter;
    r->unit = unit;
    r->revision = (int32_t)rev;

    uint64_t v1 = mix(hv, 1), v2 = mix(hv, 2), v3 = mix(hv, 3);
    int64_t max = unit_max_x100(unit);
    bool numeric = unit != AGG_UNIT_TEXT;
    r->has_target = numeric && (v1 % 10) != 0;
    r->target_x100 = (int64_t)((v1 >> 8) % (uint64_t)max) + 1;
    r->has_achieved = numeric && ((v1 >> 4) % 8) != 0;
    /* 50 % .. 130 % of the target, so sums of achieved and target differ. */
    r->achieved_x100 = r->target_x100 * (int64_t)(50 + (v2 % 81)) / 100;
    r->has_baseline = numeric && (v2 >> 8) % 2 == 0;
    r->baseline_x100 = (int64_t)((v2 >> 16) % (uint64_t)max) - max / 10;
    r->has_completion = (v3 % 100) < 85;
    unsigned c = (unsigned)((v3 >> 8) % 100);
    r->completion_x100 = c < 10   ? 0                                         /* unmet */
                       : c < 40   ? 10000 + (int32_t)((v3 >> 16) % 5001)      /* >= 100 */
                                  : 1 + (int32_t)((v3 >> 16) % 9999);         /* partial */
    /* Later revisions are submitted later (6 h apart, +- under 1 h), as corrections are:
     * the latest revision of an identity is also its latest submission. */
    r->submitted_ms = g->base_ms + (int64_t)(hi % (60LL * 86400000LL)) +
                      (int64_t)(rev - 1) * 21600000LL + (int64_t)(hv % 3600000LL);

    size_t n = 0, nw = 6 + (size_t)((v3 >> 40) % 11);
    uint64_t w = mix(hv, 4);
    for (size_t k = 0; k < nw && n + 16 < titlesz; k++) {
        int m = snprintf(title + n, titlesz - n, "%s%s", k ? " " : "", words[w % NWORDS]);
        if (m > 0)
            n += (size_t)m;
        w = w / NWORDS ? w / NWORDS : mix(w, k);
    }
    r->title = title;
    r->title_len = n;
    static char report_id[64];
    int m = snprintf(report_id, sizeof report_id, "bench-%04d-Q%d-r%" PRIu32, g->year,
                     g->quarter, rev);
    r->report_id = report_id;
    r->report_id_len = m > 0 ? (size_t)m : 0;
}

/* ---------------------------------------------------------------- expected totals */

/* The quarter's total: the fields of lib/contrib.c, summed over every record. */
typedef struct {
    int64_t d[AGG_F__N];
} totals_t;

static int totals_add(totals_t *t, const agg_record_t *r) {
    agg_contrib_t c;
    agg_contrib_of(r, &c);
    return agg_contrib_add(t->d, &c, +1);
}

/* The fields of SPEC 5 exactly as the worker writes them: the six counts always, the
 * average only when something is assessed, an amount only while a record carries it. */
static int totals_write(const totals_t *t, const char *path, char *errstr, size_t errsz) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (int k = AGG_F_INDICATORS; k < AGG_F_AMOUNT; k++)
        fprintf(f, "%s %" PRId64 "\n", agg_field_names[k], t->d[k]);
    if (t->d[AGG_F_ASSESSED] > 0) {
        char avg[32];
        agg_format_x100(agg_completion_avg_x100(t->d[AGG_F_COMPLETION_SUM],
                                                t->d[AGG_F_ASSESSED]),
                        avg, sizeof avg);
        fprintf(f, "completion_avg %s\n", avg);
    }
    for (int k = AGG_F_AMOUNT; k < AGG_F_AMOUNT_COUNT; k++)
        if (t->d[k + 6])
            fprintf(f, "%s %" PRId64 "\n", agg_field_names[k], t->d[k]);
    if (fclose(f) != 0) {
        snprintf(errstr, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- CSV (SPEC 3) */

static void csv_x100(FILE *f, bool has, int64_t v) {
    char buf[32];
    if (has && agg_format_x100(v, buf, sizeof buf) > 0)
        fputs(buf, f);
}

static void csv_row(FILE *f, const agg_record_t *r) {
    time_t secs = (time_t)(r->submitted_ms / 1000);
    struct tm tm;
    char ts[96] = "";
    if (gmtime_r(&secs, &tm))
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(r->submitted_ms % 1000));
    /* Titles are words and spaces only, but quoting keeps the file valid if they change. */
    fprintf(f, "%s,%d,%d,%s,%s,\"%.*s\",%s,", r->region, r->year, r->quarter, r->goal,
            r->indicator, (int)r->title_len, r->title, agg_unit_name(r->unit));
    csv_x100(f, r->has_baseline, r->baseline_x100);
    fputc(',', f);
    csv_x100(f, r->has_target, r->target_x100);
    fputc(',', f);
    csv_x100(f, r->has_achieved, r->achieved_x100);
    fputc(',', f);
    csv_x100(f, r->has_completion, r->completion_x100);
    fprintf(f, ",%" PRId32 ",%s,%.*s\n", r->revision, ts, (int)r->report_id_len,
            r->report_id);
}

/* ---------------------------------------------------------------- Kafka */

typedef struct {
    unsigned long long ok, failed;
    char first_error[256];
} delivery_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    delivery_t *d = opaque;
    (void)rk;
    if (m->err) {
        if (d->failed++ == 0)
            snprintf(d->first_error, sizeof d->first_error, "%s", rd_kafka_err2str(m->err));
    } else {
        d->ok++;
    }
}

static rd_kafka_t *producer_new(delivery_t *d, char *errstr, size_t errsz) {
    /* Throughput settings: large batches, a short linger; idempotence keeps retries from
     * duplicating or reordering, so the offsets the bench counts are the messages sent. */
    static const char *const defaults[] = {
        "enable.idempotence", "true",
        "linger.ms", "20",
        "batch.num.messages", "10000",
        "batch.size", "1000000",
        "queue.buffering.max.messages", "1000000",
        "queue.buffering.max.kbytes", "1048576",
        NULL,
    };
    rd_kafka_conf_t *kc = agg_kafka_conf_new(opt.bootstrap, defaults, &opt.kprops, errstr,
                                             errsz);
    if (!kc)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    rd_kafka_conf_set_opaque(kc, d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, errsz);
    if (!rk)
        rd_kafka_conf_destroy(kc); /* not consumed on failure */
    return rk;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static int parse_share(const char *s, const char *name, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0)) {
        fprintf(stderr, "agg-loadgen: --%s: expected a share between 0 and 1\n", name);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    char err[512];
    int first_arg;
    int rc = agg_opts_parse(options, argc, argv, &first_arg, &opt.kprops, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0 || first_arg < argc) {
        fprintf(stderr, "agg-loadgen: %s\n(try --help)\n",
                rc ? err : "unexpected argument");
        return 2;
    }
    if (opt.quiet)
        agg_log_level = AGG_LOG_WARN;

    gen_t g;
    double corr, dup;
    char *end;
    if (!opt.topic) {
        fprintf(stderr, "agg-loadgen: --topic is required\n");
        return 2;
    }
    size_t tl = strlen(opt.topic);
    if (tl < AGG_QUARTER_ID_LEN ||
        agg_quarter_parse(opt.topic + tl - AGG_QUARTER_ID_LEN, AGG_QUARTER_ID_LEN, &g.year,
                          &g.quarter) != 0) {
        fprintf(stderr, "agg-loadgen: --topic must end in a quarter id YYYY-Qn\n");
        return 2;
    }
    errno = 0;
    g.seed = strtoull(opt.seed_s, &end, 10);
    if (errno || end == opt.seed_s || *end) {
        fprintf(stderr, "agg-loadgen: --seed: expected an unsigned integer\n");
        return 2;
    }
    if (parse_share(opt.corrections_s, "corrections", &corr) ||
        parse_share(opt.duplicates_s, "duplicates", &dup))
        return 2;
    if (corr + dup > 0.95) {
        fprintf(stderr, "agg-loadgen: corrections + duplicates must leave >= 5 %% fresh\n");
        return 2;
    }
    if (agg_regions_load_default(&g.regions, err, sizeof err) != 0 || g.regions.count == 0) {
        fprintf(stderr, "agg-loadgen: regions: %s\n", err);
        return 1;
    }
    g.base_ms = agg_days_from_civil(g.year, (g.quarter - 1) * 3 + 1, 1) * 86400000LL;

    /* The latest revision of every identity: all the state the generator needs, 4 bytes
     * a record, since content is recomputed from (seed, id, revision). */
    uint32_t *revs = calloc(opt.records ? (size_t)opt.records : 1, sizeof *revs);
    if (!revs) {
        fprintf(stderr, "agg-loadgen: out of memory\n");
        return 1;
    }

    delivery_t d = {0};
    rd_kafka_t *rk = NULL;
    if (!opt.dry_run) {
        if (!(rk = producer_new(&d, err, sizeof err))) {
            fprintf(stderr, "agg-loadgen: %s\n", err);
            free(revs);
            return 1;
        }
        if (agg_kafka_ensure_topic(rk, opt.topic, (int)opt.partitions, -1, 30000, err,
                                   sizeof err) < 0) {
            fprintf(stderr, "agg-loadgen: %s\n", err);
            rd_kafka_destroy(rk);
            free(revs);
            return 1;
        }
    }
    FILE *csv = NULL;
    if (opt.csv_out) {
        if (!(csv = fopen(opt.csv_out, "w"))) {
            fprintf(stderr, "agg-loadgen: %s: %s\n", opt.csv_out, strerror(errno));
            if (rk) /* NULL in a dry run */
                rd_kafka_destroy(rk);
            free(revs);
            return 1;
        }
        fputs("region,year,quarter,goal,indicator,title,unit,baseline,target,achieved,"
              "completion,revision,submitted_at,report_id\n",
              csv);
    }

    uint64_t rng = g.seed, hash = 0xCBF29CE484222325ULL;
    unsigned long long nfresh = 0, ncorr = 0, ndup = 0, bytes = 0;
    int exit_code = 0;
    char title[256];
    agg_record_t r;
    double t0 = mono_s();

    for (long i = 0; i < opt.records; i++) {
        double u = (double)(splitmix64(&rng) >> 11) * 0x1.0p-53;
        uint32_t id;
        if (nfresh == 0 || u >= corr + dup) {
            id = (uint32_t)nfresh++;
            revs[id] = 1;
        } else {
            id = (uint32_t)(splitmix64(&rng) % nfresh);
            if (u < corr) {
                revs[id]++;
                ncorr++;
            } else {
                ndup++;
            }
        }
        make_record(&g, id, revs[id], &r, title, sizeof title);
        uint8_t *buf = NULL;
        long len = agg_encode_report(&r, &buf);
        if (len < 0) {
            fprintf(stderr, "agg-loadgen: encoding failed (out of memory)\n");
            exit_code = 1;
            break;
        }
        size_t klen = strlen(r.region);
        uint64_t lens[2] = {klen, (uint64_t)len};
        hash = agg_fnv1a(hash, &lens[0], sizeof lens[0]);
        hash = agg_fnv1a(hash, r.region, klen);
        hash = agg_fnv1a(hash, &lens[1], sizeof lens[1]);
        hash = agg_fnv1a(hash, buf, (size_t)len);
        bytes += klen + (unsigned long long)len;
        if (csv)
            csv_row(csv, &r);
        if (!rk) {
            free(buf);
            continue;
        }
        if (opt.rate > 0) {
            /* Pace against the start time, not the previous message, so delays do not
             * accumulate; the wait doubles as polling for delivery reports. */
            double due = t0 + (double)i / (double)opt.rate;
            for (double now = mono_s(); now < due; now = mono_s())
                rd_kafka_poll(rk, (int)((due - now) * 1000) + 1 > 5 ? 5 : 1);
        }
        for (;;) {
            rd_kafka_resp_err_t perr = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(opt.topic), RD_KAFKA_V_KEY(r.region, klen),
                RD_KAFKA_V_VALUE(buf, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                RD_KAFKA_V_END);
            if (perr == RD_KAFKA_RESP_ERR_NO_ERROR)
                break; /* librdkafka owns buf now */
            if (perr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "agg-loadgen: produce: %s\n", rd_kafka_err2str(perr));
                free(buf);
                exit_code = 1;
                break;
            }
            /* Local queue full: serve delivery reports until there is room again. */
            rd_kafka_poll(rk, 50);
        }
        if (exit_code)
            break;
        rd_kafka_poll(rk, 0);
    }

    if (rk) {
        /* Bounded wait for every acknowledgement. */
        double deadline = mono_s() + (double)opt.flush_timeout_s;
        while (rd_kafka_outq_len(rk) > 0 && mono_s() < deadline)
            rd_kafka_flush(rk, 1000);
        if (rd_kafka_outq_len(rk) > 0) {
            fprintf(stderr, "agg-loadgen: %d messages not acknowledged within %ld s\n",
                    rd_kafka_outq_len(rk), opt.flush_timeout_s);
            if (!exit_code)
                exit_code = 3;
        }
        if (d.failed) {
            fprintf(stderr, "agg-loadgen: %llu deliveries failed, first: %s\n", d.failed,
                    d.first_error);
            if (!exit_code)
                exit_code = 3;
        }
    }
    double secs = mono_s() - t0;

    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "agg-loadgen: %s: %s\n", opt.csv_out, strerror(errno));
        exit_code = exit_code ? exit_code : 1;
    }
    if (opt.expect_file && !exit_code) {
        totals_t t;
        memset(&t, 0, sizeof t);
        for (uint32_t id = 0; id < nfresh; id++) {
            make_record(&g, id, revs[id], &r, title, sizeof title);
            if (totals_add(&t, &r) != 0) {
                fprintf(stderr, "agg-loadgen: int64 overflow in the expected totals\n");
                exit_code = 1;
                break;
            }
        }
        if (!exit_code && totals_write(&t, opt.expect_file, err, sizeof err) != 0) {
            fprintf(stderr, "agg-loadgen: %s\n", err);
            exit_code = 1;
        }
    }
    printf("{\"topic\":\"%s\",\"records\":%ld,\"fresh\":%llu,\"corrections\":%llu,"
           "\"duplicates\":%llu,\"bytes\":%llu,\"fnv1a64\":\"%016" PRIx64 "\","
           "\"delivered\":%llu,\"seconds\":%.3f,\"rate\":%.0f,\"dry_run\":%s}\n",
           opt.topic, opt.records, nfresh, ncorr, ndup, bytes, hash, d.ok, secs,
           secs > 0 ? (double)opt.records / secs : 0.0, opt.dry_run ? "true" : "false");
    if (rk)
        rd_kafka_destroy(rk);
    free(revs);
    return exit_code;
}
