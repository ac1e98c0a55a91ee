/* lib/contrib.c: the contribution rule of SPEC 5 and the stored-state format. */
#include "test.h"
#include "agg/contrib.h"

static agg_contrib_t contrib(agg_unit_t unit, int completion, int64_t target,
                             int64_t achieved) {
    agg_contrib_t c;
    memset(&c, 0, sizeof c);
    c.revision = 3;
    c.unit = unit;
    c.has_completion = completion >= 0;
    c.completion_x100 = completion >= 0 ? completion : 0;
    c.has_target = target != INT64_MIN;
    c.target_x100 = c.has_target ? target : 0;
    c.has_achieved = achieved != INT64_MIN;
    c.achieved_x100 = c.has_achieved ? achieved : 0;
    strcpy(c.goal, "6.1");
    return c;
}

static void rule_counts_and_caps(void) {
    int64_t d[AGG_F__N] = {0};
    agg_contrib_t over = contrib(AGG_UNIT_COUNT, 11030, INT64_MIN, INT64_MIN); /* 110.30 % */
    agg_contrib_t part = contrib(AGG_UNIT_COUNT, 7580, INT64_MIN, INT64_MIN);
    agg_contrib_t zero = contrib(AGG_UNIT_COUNT, 0, INT64_MIN, INT64_MIN);
    agg_contrib_t none = contrib(AGG_UNIT_COUNT, -1, INT64_MIN, INT64_MIN);
    CHECK(agg_contrib_add(d, &over, +1) == 0);
    CHECK(agg_contrib_add(d, &part, +1) == 0);
    CHECK(agg_contrib_add(d, &zero, +1) == 0);
    CHECK(agg_contrib_add(d, &none, +1) == 0);
    CHECK_I64(d[AGG_F_INDICATORS], 4);
    CHECK_I64(d[AGG_F_ASSESSED], 3);
    CHECK_I64(d[AGG_F_COMPLETION_SUM], 10000 + 7580); /* above 100 % counts as 100 % */
    CHECK_I64(d[AGG_F_MET], 1);
    CHECK_I64(d[AGG_F_PARTIAL], 1);
    CHECK_I64(d[AGG_F_UNMET], 1);
    CHECK(agg_contrib_add(d, &part, -1) == 0);
    CHECK_I64(d[AGG_F_INDICATORS], 3);
    CHECK_I64(d[AGG_F_COMPLETION_SUM], 10000);
    CHECK_I64(d[AGG_F_PARTIAL], 0);
}

static void rule_amounts_by_unit(void) {
    int64_t d[AGG_F__N] = {0};
    agg_contrib_t mnt = contrib(AGG_UNIT_MNT, -1, 150000000, 0); /* achieved 0 is a value */
    agg_contrib_t pct = contrib(AGG_UNIT_PCT, -1, 9000, 8000);   /* not summed */
    agg_contrib_t text = contrib(AGG_UNIT_TEXT, -1, INT64_MIN, INT64_MIN);
    CHECK(agg_contrib_add(d, &mnt, +1) == 0);
    CHECK(agg_contrib_add(d, &pct, +1) == 0);
    CHECK(agg_contrib_add(d, &text, +1) == 0);
    CHECK_I64(d[AGG_F_INDICATORS], 3);
    CHECK_I64(d[AGG_F_AMOUNT + AGG_UNIT_MNT], 150000000);
    CHECK_I64(d[AGG_F_AMOUNT_COUNT + AGG_UNIT_MNT], 1);
    CHECK_I64(d[AGG_F_AMOUNT + AGG_SUMMED_UNITS + AGG_UNIT_MNT], 0);
    CHECK_I64(d[AGG_F_AMOUNT_COUNT + AGG_SUMMED_UNITS + AGG_UNIT_MNT], 1);
    CHECK_I64(d[AGG_F_AMOUNT + AGG_UNIT_COUNT], 0);
    CHECK_STR(agg_field_names[AGG_F_AMOUNT + AGG_UNIT_MNT], "target_x100:mnt");
    CHECK_STR(agg_field_names[AGG_F_AMOUNT_COUNT + AGG_SUMMED_UNITS + AGG_UNIT_PERSON],
              "#achieved_x100:person");
}

static void overflow_leaves_deltas_unchanged(void) {
    int64_t d[AGG_F__N] = {0};
    d[AGG_F_AMOUNT + AGG_UNIT_MNT] = INT64_MAX - 5;
    d[AGG_F_INDICATORS] = 7;
    agg_contrib_t big = contrib(AGG_UNIT_MNT, 5000, 6, INT64_MIN);
    CHECK(agg_contrib_add(d, &big, +1) == -1);
    CHECK_I64(d[AGG_F_INDICATORS], 7);
    CHECK_I64(d[AGG_F_AMOUNT + AGG_UNIT_MNT], INT64_MAX - 5);
    CHECK_I64(d[AGG_F_ASSESSED], 0);
    big.target_x100 = 5;
    CHECK(agg_contrib_add(d, &big, +1) == 0);
    CHECK_I64(d[AGG_F_AMOUNT + AGG_UNIT_MNT], INT64_MAX);
    agg_contrib_t neg = contrib(AGG_UNIT_MNT, -1, INT64_MIN + 1, INT64_MIN);
    int64_t e[AGG_F__N] = {0};
    e[AGG_F_AMOUNT + AGG_UNIT_MNT] = -2;
    CHECK(agg_contrib_add(e, &neg, +1) == -1); /* -2 + (INT64_MIN + 1) */
}

static void state_round_trip(void) {
    char buf[AGG_CONTRIB_STATE_MAX];
    agg_contrib_t c = contrib(AGG_UNIT_PERSON, 10000, -250, 1200), back;
    size_t n = agg_contrib_format(&c, buf);
    CHECK(n == strlen("3|1|10000|-250|1200|6.1"));
    CHECK(memcmp(buf, "3|1|10000|-250|1200|6.1", n) == 0);
    CHECK(agg_contrib_parse(buf, n, &back) == 0);
    CHECK(memcmp(&back, &c, sizeof c) == 0);

    agg_contrib_t absent = contrib(AGG_UNIT_TEXT, -1, INT64_MIN, INT64_MIN);
    n = agg_contrib_format(&absent, buf);
    CHECK(n == strlen("3|4||||6.1") && memcmp(buf, "3|4||||6.1", n) == 0);
    CHECK(agg_contrib_parse(buf, n, &back) == 0);
    CHECK(!back.has_completion && !back.has_target && !back.has_achieved);
    CHECK_STR(back.goal, "6.1");

    /* The longest state fits the documented bound. */
    agg_contrib_t max = contrib(AGG_UNIT_MNT, AGG_COMPLETION_MAX_X100, INT64_MIN + 1, INT64_MAX);
    max.revision = (int32_t)AGG_REVISION_MAX;
    memset(max.goal, 'g', AGG_GOAL_MAX);
    max.goal[AGG_GOAL_MAX] = '\0';
    n = agg_contrib_format(&max, buf);
    CHECK(n <= AGG_CONTRIB_STATE_MAX);
    CHECK(agg_contrib_parse(buf, n, &back) == 0);
    CHECK_I64(back.target_x100, INT64_MIN + 1);
    CHECK_I64(back.achieved_x100, INT64_MAX);
}

static void state_rejects_malformed(void) {
    static const char *const bad[] = {
        "",                        /* empty */
        "0|0||||3",                /* revision 0 */
        "2147483648|0||||3",       /* revision above the maximum */
        "1|5||||3",                /* no such unit */
        "1|0|100001|||3",          /* completion above 1000 % */
        "1|0|-1|||3",              /* negative completion */
        "1|0||||",                 /* no goal */
        "1|0|||3",                 /* a field missing */
        "1|0|||||3",               /* a field too many: '|' in the goal */
        "1|0||x||3",               /* not a number */
        "1|0||-||3",               /* a sign alone */
        "1|0||9223372036854775808||3", /* beyond int64 */
        "1|0||||goal-longer-than-thirty-two-bytes",
    };
    agg_contrib_t c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (agg_contrib_parse(bad[i], strlen(bad[i]), &c) != -1) {
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST_MAIN(TEST(rule_counts_and_caps), TEST(rule_amounts_by_unit),
          TEST(overflow_leaves_deltas_unchanged), TEST(state_round_trip),
          TEST(state_rejects_malformed))
