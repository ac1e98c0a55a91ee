/* Redis key names: the public contract of SPEC section 6, spelled out in full. */
#include <string.h>

#include "agg/keys.h"
#include "test.h"

static char k[AGG_KEY_MAX];

#define KEY_IS(call, want)                                                                 \
    do {                                                                                   \
        memset(k, 'Z', sizeof k);                                                          \
        int n_ = (call);                                                                   \
        CHECK_STR(k, want);                                                                \
        CHECK_I64(n_, strlen(want));                                                       \
    } while (0)

static void scope_keys(void) {
    KEY_IS(agg_key_scope(k, sizeof k, "agg", "2024-Q2", NULL, NULL), "agg:2024-Q2:total");
    KEY_IS(agg_key_scope(k, sizeof k, "agg", "2024-Q2", NULL, "6.1"),
           "agg:2024-Q2:goal:6.1");
    KEY_IS(agg_key_scope(k, sizeof k, "agg", "2024-Q2", "ub-khan-uul", NULL),
           "agg:2024-Q2:region:ub-khan-uul");
    KEY_IS(agg_key_scope(k, sizeof k, "agg", "2024-Q2", "ub-khan-uul", "6.1"),
           "agg:2024-Q2:region:ub-khan-uul:goal:6.1");
    KEY_IS(agg_key_scope(k, sizeof k, "t1", "2025-Q4", "arkhangai", "3"),
           "t1:2025-Q4:region:arkhangai:goal:3");
}

static void scope_count_keys(void) {
    KEY_IS(agg_key_scope_counts(k, sizeof k, "agg", "2024-Q2", NULL, NULL),
           "agg:internal:cnt:2024-Q2:total");
    KEY_IS(agg_key_scope_counts(k, sizeof k, "agg", "2024-Q2", NULL, "6.1"),
           "agg:internal:cnt:2024-Q2:goal:6.1");
    KEY_IS(agg_key_scope_counts(k, sizeof k, "agg", "2024-Q2", "ub-khan-uul", NULL),
           "agg:internal:cnt:2024-Q2:region:ub-khan-uul");
    KEY_IS(agg_key_scope_counts(k, sizeof k, "agg", "2024-Q2", "ub-khan-uul", "6.1"),
           "agg:internal:cnt:2024-Q2:region:ub-khan-uul:goal:6.1");
}

static void quarter_keys(void) {
    KEY_IS(agg_key_regions(k, sizeof k, "agg", "2024-Q2"), "agg:2024-Q2:regions");
    KEY_IS(agg_key_goals(k, sizeof k, "agg", "2024-Q2"), "agg:2024-Q2:goals");
    KEY_IS(agg_key_rank(k, sizeof k, "agg", "2024-Q2", "6.1"), "agg:2024-Q2:rank:goal:6.1");
    KEY_IS(agg_key_state(k, sizeof k, "agg", "2024-Q2"), "agg:2024-Q2:state");
    KEY_IS(agg_key_quarters(k, sizeof k, "agg"), "agg:quarters");
}

static void internal_keys(void) {
    KEY_IS(agg_key_records(k, sizeof k, "agg", "2024-Q2", "ub-khan-uul"),
           "agg:internal:rec:2024-Q2:ub-khan-uul");
    KEY_IS(agg_key_offsets(k, sizeof k, "agg", "reports.2024-Q2"),
           "agg:internal:offsets:reports.2024-Q2");
    KEY_IS(agg_key_metrics(k, sizeof k, "agg", "worker-1"),
           "agg:internal:metrics:worker-1");
}

static void short_buffers_fail(void) {
    /* "agg:2024-Q2:total" is 17 bytes: 18 fit, 17 do not */
    char b[32];
    CHECK_I64(agg_key_scope(b, 18, "agg", "2024-Q2", NULL, NULL), 17);
    CHECK_I64(agg_key_scope(b, 17, "agg", "2024-Q2", NULL, NULL), -1);
    CHECK_STR(b, ""); /* no truncated name is left behind */
    CHECK_I64(agg_key_quarters(b, 12, "agg"), -1);
    CHECK_I64(agg_key_quarters(b, 13, "agg"), 12);
    CHECK_I64(agg_key_scope_counts(b, sizeof b, "agg", "2024-Q2", "ub-khan-uul", "6.1"),
              -1);
    CHECK_I64(agg_key_records(b, 10, "agg", "2024-Q2", "x"), -1);
    CHECK_I64(agg_key_offsets(b, 10, "agg", "reports.2024-Q2"), -1);
    CHECK_I64(agg_key_metrics(b, 10, "agg", "worker-1"), -1);
    CHECK_I64(agg_key_rank(b, 10, "agg", "2024-Q2", "6"), -1);
    CHECK_I64(agg_key_regions(b, 10, "agg", "2024-Q2"), -1);
    CHECK_I64(agg_key_goals(b, 10, "agg", "2024-Q2"), -1);
    CHECK_I64(agg_key_state(b, 10, "agg", "2024-Q2"), -1);
    char big_prefix[AGG_KEY_MAX + 10];
    memset(big_prefix, 'p', sizeof big_prefix - 1);
    big_prefix[sizeof big_prefix - 1] = '\0';
    CHECK_I64(agg_key_scope(k, sizeof k, big_prefix, "2024-Q2", NULL, NULL), -1);
    CHECK_I64(agg_key_scope_counts(k, sizeof k, big_prefix, "2024-Q2", NULL, NULL), -1);
}

TEST_MAIN(TEST(scope_keys), TEST(scope_count_keys), TEST(quarter_keys), TEST(internal_keys),
          TEST(short_buffers_fail))
