/* The worker's batch builder: rejects, winner per identity, exact deltas per scope, and
 * the apply.lua argument layout. Redis replies are faked: this tests the arithmetic. */
#include <stdlib.h>

#include "test.h"
#include "../../worker/apply_args.h"
#include "../../worker/worker.h"

volatile sig_atomic_t worker_stop;

static worker_conf_t conf;
static uint8_t *bufs[256];
static batch_msg_t msgs[256];
static size_t nmsgs;

static agg_record_t rec(const char *region, const char *goal, const char *ind, int rev) {
    agg_record_t r;
    memset(&r, 0, sizeof r);
    strcpy(r.region, region);
    strcpy(r.goal, goal);
    strcpy(r.indicator, ind);
    r.year = 2024;
    r.quarter = 2;
    r.revision = rev;
    r.submitted_ms = 1000 + rev;
    return r;
}

static const batch_msg_t *msg(const agg_record_t *r, const char *key) {
    long n = agg_encode_report(r, &bufs[nmsgs]);
    batch_msg_t *m = &msgs[nmsgs];
    m->key = key;
    m->key_len = strlen(key);
    m->value = bufs[nmsgs];
    m->value_len = (size_t)n;
    m->offset = 100 + (int64_t)nmsgs;
    nmsgs++;
    return m;
}

static void setup(void) {
    for (size_t i = 0; i < nmsgs; i++)
        free(bufs[i]);
    nmsgs = 0;
    memset(&conf, 0, sizeof conf);
    conf.topic_prefix = "reports.";
    conf.key_prefix = "agg";
    conf.batch_size = 100;
    char err[128];
    agg_regions_load_default(&conf.regions, err, sizeof err);
}

/* Delta of field `name` in the scope block starting at argv[at] (key, counts key, kind,
 * region, goal, rank key, n, then n field/delta pairs); NULL when the block has none. */
static const char *scope_field(int argc, const char **argv, int at, const char *name) {
    if (at < 0 || at + 6 >= argc)
        return NULL;
    int n = atoi(argv[at + 6]);
    for (int k = 0; k < n && at + 8 + 2 * k < argc; k++)
        if (strcmp(argv[at + 7 + 2 * k], name) == 0)
            return argv[at + 8 + 2 * k];
    return NULL;
}

static int index_of(int argc, const char **argv, const char *s) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], s) == 0)
            return i;
    return -1;
}

static redisReply *nil_array(size_t n, const char **vals) {
    redisReply *r = calloc(1, sizeof *r);
    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n, sizeof *r->element);
    for (size_t i = 0; i < n; i++) {
        r->element[i] = calloc(1, sizeof **r->element);
        if (vals && vals[i]) {
            r->element[i]->type = REDIS_REPLY_STRING;
            r->element[i]->str = (char *)vals[i];
            r->element[i]->len = strlen(vals[i]);
        } else {
            r->element[i]->type = REDIS_REPLY_NIL;
        }
    }
    return r;
}

static void free_array(redisReply *r) {
    for (size_t i = 0; i < r->elements; i++)
        free(r->element[i]);
    free(r->element);
    free(r);
}

static void rejects_name_the_reason(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 3) == 0);
    agg_record_t ok = rec("arkhangai", "3", "3.1.1", 1);
    agg_record_t bad_region = rec("atlantis", "3", "x", 1);
    agg_record_t wrong_q = rec("khovd", "3", "x", 1);
    wrong_q.quarter = 3;
    batch_msg_t garbage = {.key = "k", .key_len = 1, .value = "\xff\xff", .value_len = 2,
                           .offset = 7};
    batch_add(b, msg(&ok, "arkhangai"));
    batch_add(b, msg(&bad_region, "atlantis"));
    batch_add(b, msg(&wrong_q, "khovd"));
    batch_add(b, msg(&ok, "khovd")); /* key is not the region */
    batch_add(b, &garbage);
    const batch_reject_t *rj;
    CHECK_I64(batch_rejects(b, &rj), 4);
    CHECK(strncmp(rj[0].reason, "invalid field region:", 21) == 0);
    CHECK(strncmp(rj[1].reason, "quarter mismatch:", 17) == 0);
    CHECK(strncmp(rj[2].reason, "key mismatch:", 13) == 0);
    CHECK(strncmp(rj[3].reason, "undecodable", 11) == 0);
    CHECK_I64(rj[3].msg.offset, 7);
    CHECK_I64(batch_read_cmds(b), 1);
    batch_free(b);
}

/* rev 1 and rev 2 of one identity in one batch, plus a duplicate rev 2: the first rev 2
 * wins; the stored rev 1 (goal 3, count target 10.00, completion 87.5) is taken out of
 * goal 3 and the winner (goal 6.1, mnt target 20.00, completion 120) goes into 6.1. */
static void latest_revision_moves_between_goals(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 0) == 0);
    agg_record_t r1 = rec("arkhangai", "3", "3.1.1", 1);
    agg_record_t r2 = rec("arkhangai", "6.1", "3.1.1", 2);
    r2.unit = AGG_UNIT_MNT;
    r2.has_target = true;
    r2.target_x100 = 2000;
    r2.has_completion = true;
    r2.completion_x100 = 12000;
    agg_record_t r2dup = r2;
    r2dup.target_x100 = 999999; /* same revision: must be ignored */
    batch_add(b, msg(&r1, "arkhangai"));
    batch_add(b, msg(&r2, "arkhangai"));
    batch_add(b, msg(&r2dup, "arkhangai"));

    int argc;
    const char **argv;
    const size_t *lens;
    CHECK_I64(batch_read_cmds(b), 1);
    CHECK(batch_read_cmd(b, 0, &argc, &argv, &lens) == 0);
    CHECK_I64(argc, 4);
    CHECK_STR(argv[0], "HMGET");
    CHECK_STR(argv[1], "agg:internal:rec:2024-Q2:arkhangai");
    CHECK_STR(argv[2], "@v");
    CHECK_STR(argv[3], "3.1.1");

    const char *stored[] = {"7", "1|0|8750|1000||3"};
    redisReply *reply = nil_array(2, stored);
    char err[128];
    CHECK(batch_read_reply(b, 0, reply, err, sizeof err) == 0);
    free_array(reply);

    CHECK(batch_script_args(b, 100, 5555, &argc, &argv, &lens, err, sizeof err) == 0);
    CHECK_STR(argv[0], "agg:internal:offsets:reports.2024-Q2");
    CHECK_STR(argv[1], "0");
    CHECK_STR(argv[2], "100");
    CHECK_STR(argv[3], "103"); /* next offset: last (102) + 1 */
    CHECK_STR(argv[APPLY_ARG_MARKER_MS], ""); /* no close marker */
    CHECK_STR(argv[APPLY_ARG_LATE_RECORDS], "3");
    const int F = APPLY_ARG__FIXED;
    CHECK_STR(argv[F], "1");  /* one record-state key */
    CHECK_STR(argv[F + 1], "agg:internal:rec:2024-Q2:arkhangai");
    CHECK_STR(argv[F + 2], "7"); /* compare-and-set: the version we read */
    CHECK_STR(argv[F + 3], "1");
    CHECK_STR(argv[F + 4], "3.1.1");
    CHECK_STR(argv[F + 5], "2|2|12000|2000||6.1");
    CHECK_I64(batch_applied(b), 1);

    int g3 = index_of(argc, argv, "agg:2024-Q2:region:arkhangai:goal:3");
    int g61 = index_of(argc, argv, "agg:2024-Q2:region:arkhangai:goal:6.1");
    int tot = index_of(argc, argv, "agg:2024-Q2:total");
    CHECK(g3 > 0 && g61 > 0 && tot > 0);
    if (g3 > 0 && g61 > 0 && tot > 0) {
        CHECK_STR(argv[g3 + 2], "RG");
        CHECK_STR(argv[g3 + 5], "agg:2024-Q2:rank:goal:3");
        CHECK_STR(scope_field(argc, argv, g3, "indicators"), "-1");
        CHECK_STR(scope_field(argc, argv, g3, "completion_sum_x100"), "-8750");
        CHECK_STR(scope_field(argc, argv, g3, "partial"), "-1");
        CHECK_STR(scope_field(argc, argv, g3, "target_x100:count"), "-1000");
        CHECK_STR(scope_field(argc, argv, g3, "#target_x100:count"), "-1");
        CHECK_STR(scope_field(argc, argv, g61, "indicators"), "1");
        CHECK_STR(scope_field(argc, argv, g61, "completion_sum_x100"), "10000"); /* capped */
        CHECK_STR(scope_field(argc, argv, g61, "met"), "1");
        CHECK_STR(scope_field(argc, argv, g61, "target_x100:mnt"), "2000");
        /* The total keeps its one record: counts cancel, the units swap. */
        CHECK(scope_field(argc, argv, tot, "indicators") == NULL); /* zero deltas are not sent */
        CHECK_STR(scope_field(argc, argv, tot, "completion_sum_x100"), "1250");
        CHECK_STR(scope_field(argc, argv, tot, "partial"), "-1");
        CHECK_STR(scope_field(argc, argv, tot, "met"), "1");
    }
    batch_free(b);
}

/* A stored revision at or above the batch's changes nothing and sends no CAS entry. */
static void stale_revision_is_a_no_op(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 1) == 0);
    agg_record_t r1 = rec("khovd", "7", "7.1", 1);
    batch_add(b, msg(&r1, "khovd"));
    CHECK_I64(batch_read_cmds(b), 1);
    const char *stored[] = {NULL, "3|0||||7"};
    redisReply *reply = nil_array(2, stored);
    char err[128];
    CHECK(batch_read_reply(b, 0, reply, err, sizeof err) == 0);
    free_array(reply);
    int argc;
    const char **argv;
    const size_t *lens;
    CHECK(batch_script_args(b, -1, 1, &argc, &argv, &lens, err, sizeof err) == 0);
    CHECK_STR(argv[APPLY_ARG_EXPECTED], ""); /* no stored offset */
    CHECK_STR(argv[APPLY_ARG__FIXED], "0"); /* no record states */
    CHECK_STR(argv[APPLY_ARG__FIXED + 1], "0"); /* no scopes */
    /* one region: its latest and its first submission (rec() submits at 1000 + rev) */
    CHECK_STR(argv[APPLY_ARG__FIXED + 2], "1");
    CHECK_STR(argv[APPLY_ARG__FIXED + 3], "khovd");
    CHECK_STR(argv[APPLY_ARG__FIXED + 4], "1001");
    CHECK_STR(argv[APPLY_ARG__FIXED + 5], "1001");
    CHECK_I64(batch_unchanged(b), 1);

    /* ... and an equal one: a resend of the stored revision. */
    CHECK(batch_reset(b, "reports.2024-Q2", 1) == 0);
    batch_add(b, msg(&r1, "khovd"));
    CHECK_I64(batch_read_cmds(b), 1);
    const char *same[] = {NULL, "1|0||||7"};
    reply = nil_array(2, same);
    CHECK(batch_read_reply(b, 0, reply, err, sizeof err) == 0);
    free_array(reply);
    CHECK(batch_script_args(b, -1, 1, &argc, &argv, &lens, err, sizeof err) == 0);
    CHECK_STR(argv[APPLY_ARG__FIXED], "0");     /* no record states */
    CHECK_STR(argv[APPLY_ARG__FIXED + 1], "0"); /* no scopes */
    CHECK_I64(batch_unchanged(b), 1);
    batch_free(b);
}

static void corrupt_state_is_an_error(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 1) == 0);
    agg_record_t r1 = rec("khovd", "7", "7.1", 1);
    batch_add(b, msg(&r1, "khovd"));
    CHECK_I64(batch_read_cmds(b), 1);
    const char *stored[] = {"1", "x|0||||7"};
    redisReply *reply = nil_array(2, stored);
    char err[128];
    CHECK(batch_read_reply(b, 0, reply, err, sizeof err) == -1);
    CHECK(strstr(err, "corrupt record state") != NULL);
    free_array(reply);
    batch_free(b);
}

static void close_marker_ends_the_batch(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 1) == 0);
    uint8_t *buf;
    agg_close_t c = {.year = 2024, .quarter = 2, .requested_ms = 42, .partitions = 6,
                     .deadline_ms = 1720540800000LL, .requested_by = "test"};
    long n = agg_encode_close(&c, &buf);
    batch_msg_t m = {.key = "", .key_len = 0, .value = buf, .value_len = (size_t)n,
                     .offset = 9};
    CHECK(batch_add(b, &m) == 1);
    int argc;
    const char **argv;
    const size_t *lens;
    char err[128];
    CHECK_I64(batch_read_cmds(b), 0);
    CHECK(batch_script_args(b, 9, 1, &argc, &argv, &lens, err, sizeof err) == 0);
    CHECK(argc == APPLY_ARG__FIXED + 3); /* no states, no scopes, no regions */
    CHECK_STR(argv[APPLY_ARG_MARKER_MS], "42");
    CHECK_STR(argv[APPLY_ARG_MARKER_PARTITIONS], "6");
    CHECK_STR(argv[APPLY_ARG_MARKER_DEADLINE_MS], "1720540800000");
    CHECK_STR(argv[APPLY_ARG_MARKER_BY], "test");
    CHECK_STR(argv[APPLY_ARG_CLOSED_KEY], "agg:internal:closed:2024-Q2");
    CHECK_STR(argv[APPLY_ARG_FIRST_KEY], "agg:2024-Q2:regions:first");
    CHECK_STR(argv[APPLY_ARG_SCOPE_BASE], "agg:2024-Q2:");
    CHECK_STR(argv[APPLY_ARG_OUTBOX_KEY], "agg:internal:outbox");
    CHECK_STR(argv[APPLY_ARG_TOPIC], "reports.2024-Q2");
    CHECK_STR(argv[APPLY_ARG_LATE_RECORDS], "0");
    CHECK_STR(argv[APPLY_ARG_NEXT_OFFSET], "10");
    CHECK(batch_marker(b) != NULL && batch_marker(b)->partitions == 6);
    free(buf);
    batch_free(b);
}

/* A topic of a quarter out of range (the subscription admits any YYYY-Qn) refuses each
 * message with a reason, and its batch carries no record: no quarter state. */
static void out_of_range_quarter_topic(void) {
    setup();
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.9999-Q1", 0) == 0);
    agg_record_t r1 = rec("khovd", "7", "7.1", 1);
    r1.year = 9999;
    r1.quarter = 1;
    batch_add(b, msg(&r1, "khovd"));
    const batch_reject_t *rj;
    CHECK_I64(batch_rejects(b, &rj), 1);
    CHECK_STR(rj[0].reason, "topic reports.9999-Q1: quarter 9999-Q1 out of range (years 2000 to 2100)");
    CHECK_I64(batch_valid(b), 0);
    CHECK(batch_reset(b, "reports.2024-Q5", 0) == -1); /* not a quarter topic at all */
    batch_free(b);
}

/* A batch with more scopes than the table's first size (more than 127): the table
 * grows while a record's four scopes are looked up, and every delta must survive. */
static void many_scopes_in_one_batch(void) {
    setup();
    conf.no_region_check = true;
    batch_t *b = batch_new(&conf);
    CHECK(batch_reset(b, "reports.2024-Q2", 0) == 0);
    static char names[200][16];
    /* A first record of its own goal makes the count of scopes odd, so that the table's
     * growth falls between the lookups of one record's scopes. */
    agg_record_t first = rec("r999", "9", "9.1", 1);
    batch_add(b, msg(&first, "r999"));
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "r%03d", i);
        agg_record_t r = rec(names[i], "1", "1.1", 1);
        r.has_completion = true;
        r.completion_x100 = 5000;
        batch_add(b, msg(&r, names[i]));
    }
    size_t n = batch_read_cmds(b);
    CHECK_I64(n, 201);
    char err[128];
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = nil_array(2, NULL);
        CHECK(batch_read_reply(b, i, reply, err, sizeof err) == 0);
        free_array(reply);
    }
    int argc;
    const char **argv;
    const size_t *lens;
    CHECK(batch_script_args(b, -1, 1, &argc, &argv, &lens, err, sizeof err) == 0);
    int tot = index_of(argc, argv, "agg:2024-Q2:total");
    int goal = index_of(argc, argv, "agg:2024-Q2:goal:1");
    int last = index_of(argc, argv, "agg:2024-Q2:region:r199:goal:1");
    CHECK(tot > 0 && goal > 0 && last > 0);
    if (tot > 0 && goal > 0 && last > 0) {
        CHECK_STR(scope_field(argc, argv, tot, "indicators"), "201");
        CHECK_STR(scope_field(argc, argv, tot, "completion_sum_x100"), "1000000");
        CHECK_STR(scope_field(argc, argv, goal, "partial"), "200");
        CHECK_STR(scope_field(argc, argv, last, "indicators"), "1");
    }
    batch_free(b);
}

TEST_MAIN(TEST(rejects_name_the_reason), TEST(latest_revision_moves_between_goals),
          TEST(stale_revision_is_a_no_op), TEST(corrupt_state_is_an_error),
          TEST(close_marker_ends_the_batch), TEST(out_of_range_quarter_topic),
          TEST(many_scopes_in_one_batch))
