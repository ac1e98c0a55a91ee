/* agg-summaries: the summaries of a quarter, read from the summary topic (SPEC 8).
 *
 *   agg-summaries --quarter 2024-Q2 [--json] [--all]
 *
 * Reads every partition of <topic-prefix>summaries from the beginning to its current
 * end, keeps the messages of the quarter, drops duplicates by id, and prints the latest
 * revision of each scope (--all: every revision) as a table, or as JSON lines (--json,
 * amounts exact). Data on stdout, diagnostics on stderr.
 * Exit codes: 0 printed (possibly nothing: see stderr), 1 broker or decode error,
 * 2 usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/config.h"
#include "agg/kafka.h"
#include "agg/log.h"
#include "agg/period.h"
#include "agg/summary.h"

static struct {
    const char *bootstrap;
    const char *topic_prefix;
    const char *summary_topic;
    const char *quarter;
    bool json, all, help;
    long timeout_ms;
    agg_kprops_t kprops;
} opt;

static const agg_opt_t options[] = {
    {"bootstrap", 'b', "AGG_KAFKA_BOOTSTRAP", AGG_OPT_STRING, "127.0.0.1:9092", 0, 0,
     "Kafka bootstrap servers", &opt.bootstrap},
    {"topic-prefix", 0, "AGG_TOPIC_PREFIX", AGG_OPT_STRING, "reports.", 0, 0,
     "the summary topic is <prefix>summaries", &opt.topic_prefix},
    {"summary-topic", 0, "AGG_SUMMARY_TOPIC", AGG_OPT_STRING, NULL, 0, 0,
     "summary topic (default <topic-prefix>summaries)", &opt.summary_topic},
    {"quarter", 0, NULL, AGG_OPT_STRING, NULL, 0, 0, "quarter, e.g. 2024-Q2 (required)",
     &opt.quarter},
    {"json", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0, "one JSON object per summary", &opt.json},
    {"all", 0, NULL, AGG_OPT_FLAG, NULL, 0, 0, "every revision, not only the latest",
     &opt.all},
    {"timeout-ms", 0, "AGG_TIMEOUT_MS", AGG_OPT_INT, "30000", 100, 3600000,
     "bound of the read", &opt.timeout_ms},
    {0},
};

typedef struct {
    char id[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1];
    uint32_t revision;
    char *json;
} entry_t;

static entry_t *entries;
static size_t nentries, cap;

static int add_entry(const char *id, const char *scope, uint32_t rev, char *json) {
    for (size_t i = 0; i < nentries; i++)
        if (strcmp(entries[i].id, id) == 0) {
            free(json); /* a duplicate (re-sent after a crash): same id, same content */
            return 0;
        }
    if (nentries == cap) {
        size_t nc = cap ? cap * 2 : 64;
        entry_t *ne = realloc(entries, nc * sizeof *ne);
        if (!ne)
            return -1;
        entries = ne;
        cap = nc;
    }
    entry_t *e = &entries[nentries++];
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->scope, sizeof e->scope, "%s", scope);
    e->revision = rev;
    e->json = json;
    return 0;
}

/* total first, then regions by code; within a scope by revision. */
static int cmp_entry(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    int tx = strcmp(x->scope, "total") == 0, ty = strcmp(y->scope, "total") == 0;
    if (tx != ty)
        return ty - tx;
    int c = strcmp(x->scope, y->scope);
    if (c)
        return c;
    return x->revision < y->revision ? -1 : x->revision > y->revision;
}

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "-";
}

static long long jint(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* x100 -> "12345.67" ("-" when absent). */
static void x100(json_t *o, const char *k, char *buf, size_t n) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        snprintf(buf, n, "-");
        return;
    }
    long long x = (long long)json_integer_value(v);
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    snprintf(buf, n, "%s%llu.%02llu", x < 0 ? "-" : "", u / 100, u % 100);
}

static void print_row(const char *label, json_t *t) {
    char tm[32], am[32];
    x100(t, "target_x100:mnt", tm, sizeof tm);
    x100(t, "achieved_x100:mnt", am, sizeof am);
    printf("  %-22s %6lld %6lld %7s %4lld %4lld %4lld %18s %18s\n", label, jint(t, "indicators"),
           jint(t, "assessed"), jstr(t, "completion_avg"), jint(t, "met"), jint(t, "partial"),
           jint(t, "unmet"), tm, am);
}

static void print_table(json_t *s) {
    printf("%s  revision %lld%s%s\n", jstr(s, "id"), jint(s, "revision"),
           json_is_true(json_object_get(s, "replayed")) ? " (replayed)" : "",
           jint(s, "late_records") ? " (amendment)" : "");
    if (json_object_get(s, "regions_expected")) {
        printf("  regions: %lld expected, %lld reported (%s %%), %lld on time (%s %%)\n",
               jint(s, "regions_expected"), jint(s, "regions_reported"),
               jstr(s, "reporting_rate"), jint(s, "regions_on_time"), jstr(s, "on_time_rate"));
        json_t *m = json_object_get(s, "regions_missing"), *l = json_object_get(s, "regions_late");
        printf("  missing:");
        for (size_t i = 0; i < json_array_size(m); i++)
            printf(" %s", json_string_value(json_array_get(m, i)));
        printf("%s\n  late:", json_array_size(m) ? "" : " none");
        for (size_t i = 0; i < json_array_size(l); i++)
            printf(" %s", json_string_value(json_array_get(l, i)));
        printf("%s\n", json_array_size(l) ? "" : " none");
    } else if (json_object_get(s, "on_time")) {
        printf("  on time: %s\n", json_is_true(json_object_get(s, "on_time")) ? "yes" : "no");
    }
    if (jint(s, "late_records"))
        printf("  late records absorbed: %lld\n", jint(s, "late_records"));
    printf("  %-22s %6s %6s %7s %4s %4s %4s %18s %18s\n", "", "rows", "asses", "avg %", "met",
           "part", "unmt", "target MNT", "achieved MNT");
    print_row("all goals", json_object_get(s, "totals"));
    json_t *goals = json_object_get(s, "goals");
    for (size_t i = 0; i < json_array_size(goals); i++) {
        json_t *g = json_array_get(goals, i);
        char label[64];
        snprintf(label, sizeof label, "goal %s", jstr(g, "goal"));
        print_row(label, json_object_get(g, "totals"));
    }
    printf("\n");
}

typedef struct {
    const char *qid, *topic;
} read_ctx_t;

/* One message of the summary topic: kept when it is of the quarter (key = quarter). */
static int on_message(const rd_kafka_message_t *m, void *opaque, char *errstr,
                      size_t errstr_size) {
    const read_ctx_t *c = opaque;
    if (m->key_len != strlen(c->qid) || memcmp(m->key, c->qid, m->key_len) != 0)
        return 0;
    char id[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1], err[256];
    uint32_t rev;
    char *json = agg_summary_to_json(m->payload, m->len, id, scope, &rev, err, sizeof err);
    if (!json) {
        snprintf(errstr, errstr_size, "%s [%d] offset %lld: %s", c->topic, (int)m->partition,
                 (long long)m->offset, err);
        return -1;
    }
    if (add_entry(id, scope, rev, json) != 0) {
        free(json);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    char err[512], topic[300], qid[AGG_QUARTER_ID_LEN + 1];
    int first = 0, year, quarter;
    int rc = agg_opts_parse(options, argc, argv, &first, &opt.kprops, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc != 0 || first < argc || !opt.quarter) {
        fprintf(stderr, "agg-summaries: %s\n(try --help)\n",
                rc ? err : first < argc ? "unexpected argument" : "--quarter is required");
        return 2;
    }
    if (agg_quarter_parse(opt.quarter, strlen(opt.quarter), &year, &quarter) != 0 ||
        agg_quarter_format(year, quarter, qid, sizeof qid) != 0) {
        fprintf(stderr, "agg-summaries: --quarter: \"%s\" is not a quarter like 2024-Q2\n",
                opt.quarter);
        return 2;
    }
    if (opt.summary_topic)
        snprintf(topic, sizeof topic, "%s", opt.summary_topic);
    else
        snprintf(topic, sizeof topic, "%ssummaries", opt.topic_prefix);
    agg_log_level = AGG_LOG_WARN;

    int exit_code = 0;
    read_ctx_t ctx = {.qid = qid, .topic = topic};
    int nparts = agg_kafka_read_topic(opt.bootstrap, &opt.kprops, topic, -1,
                                      (int)opt.timeout_ms, on_message, &ctx, err, sizeof err);
    if (nparts < 0) {
        fprintf(stderr, "agg-summaries: %s\n", err);
        exit_code = 1;
    } else if (nparts == 0) {
        fprintf(stderr, "agg-summaries: topic %s does not exist (no quarter closed yet)\n",
                topic);
        return 0;
    }

    qsort(entries, nentries, sizeof *entries, cmp_entry);
    size_t printed = 0;
    for (size_t i = 0; i < nentries; i++) {
        /* Without --all, only the last (highest) revision of each scope. */
        if (!opt.all && i + 1 < nentries && strcmp(entries[i].scope, entries[i + 1].scope) == 0)
            continue;
        if (opt.json) {
            printf("%s\n", entries[i].json);
        } else {
            json_t *s = json_loads(entries[i].json, 0, NULL);
            if (s)
                print_table(s);
            json_decref(s);
        }
        printed++;
    }
    if (printed == 0 && !exit_code)
        fprintf(stderr, "agg-summaries: no summary of %s on %s\n", qid, topic);
    for (size_t i = 0; i < nentries; i++)
        free(entries[i].json);
    free(entries);
    if (fflush(stdout) != 0)
        exit_code = 1;
    return exit_code;
}
