/* agg-dashboard's pure parts: CSV cells and tables, Prometheus lines, x100 decimals,
 * scope hashes as JSON, goal order. No server, no Redis. */
#include <stdlib.h>

#include "../../dashboard/dash.h"
#include "test.h"

/* Writes with fn into a memory stream and returns the text (static buffer). */
static char out_buf[8192];
#define CAPTURE(expr)                                                                      \
    do {                                                                                   \
        char *b_ = NULL;                                                                   \
        size_t n_ = 0;                                                                     \
        FILE *f_ = open_memstream(&b_, &n_);                                               \
        CHECK(f_ != NULL);                                                                 \
        CHECK((expr) == 0);                                                                \
        fclose(f_);                                                                        \
        snprintf(out_buf, sizeof out_buf, "%s", b_ ? b_ : "");                             \
        free(b_);                                                                          \
    } while (0)

static const char *cell(json_t *v) {
    CAPTURE(dash_csv_cell(f_, v));
    json_decref(v);
    return out_buf;
}

static void test_csv_formula_cells_get_a_quote(void) {
    CHECK_STR(cell(json_string("=HYPERLINK(\"http://x\")")),
              "\"'=HYPERLINK(\"\"http://x\"\")\"");
    CHECK_STR(cell(json_string("+1+2")), "\"'+1+2\"");
    CHECK_STR(cell(json_string("-2+3")), "\"'-2+3\"");
    CHECK_STR(cell(json_string("@SUM(A1)")), "\"'@SUM(A1)\"");
    CHECK_STR(cell(json_string("\tx")), "\"'\tx\"");
    CHECK_STR(cell(json_string("a=b")), "a=b"); /* only the first character counts */
}

static void test_csv_numbers_stay_numbers(void) {
    CHECK_STR(cell(json_string("-12.50")), "-12.50");
    CHECK_STR(cell(json_string("81.04")), "81.04");
    CHECK_STR(cell(json_string("-0.05")), "-0.05");
    CHECK_STR(cell(json_integer(-150000050)), "-150000050");
    CHECK_STR(cell(json_integer(0)), "0");
    /* not numbers: a lone '-', "1.", ".5", "1e5" */
    CHECK_STR(cell(json_string("-")), "\"'-\"");
    CHECK_STR(cell(json_string("1.")), "1.");
    CHECK_STR(cell(json_string("1e5")), "1e5");
    CHECK(!dash_csv_is_number(".5", 2));
    CHECK(!dash_csv_is_number("1.", 2));
    CHECK(dash_csv_is_number("007", 3));
}

static void test_csv_quoting(void) {
    CHECK_STR(cell(json_string("Collect fund revenue, widen coverage")),
              "\"Collect fund revenue, widen coverage\"");
    CHECK_STR(cell(json_string("say \"hi\"")), "\"say \"\"hi\"\"\"");
    CHECK_STR(cell(json_string("two\nlines")), "\"two\nlines\"");
    CHECK_STR(cell(json_string("Хөвсгөл")), "Хөвсгөл");
    CHECK_STR(cell(json_null()), "");
    CHECK_STR(cell(json_true()), "true");
}

static void test_csv_table_of_a_goal(void) {
    json_error_t e;
    json_t *body = json_loads(
        "{\"regions\":[{\"rank\":1,\"code\":\"bulgan\",\"name_mn\":\"Булган\","
        "\"name_en\":\"=Bulgan\",\"scope\":{\"indicators\":2,\"assessed\":2,"
        "\"completion_avg\":\"87.50\",\"met\":1,\"partial\":1,\"unmet\":0,\"amounts\":"
        "{\"mnt\":{\"target\":\"-100.10\",\"achieved\":\"100000.10\"}}}},"
        "{\"rank\":null,\"code\":\"tuv\",\"scope\":{\"indicators\":1,\"assessed\":0,"
        "\"completion_avg\":null,\"met\":0,\"partial\":0,\"unmet\":0,\"amounts\":{}}}]}",
        0, &e);
    CHECK(body != NULL);
    char *csv = NULL, why[100];
    size_t len = 0;
    CHECK(dash_export_csv(DASH_TABLE_GOAL, body, &csv, &len, why, sizeof why) == 0);
    CHECK_STR(csv ? csv : "",
              "rank,region,name_mn,name_en,indicators,assessed,completion_avg,met,partial,"
              "unmet,target_count,achieved_count,target_person,achieved_person,target_mnt,"
              "achieved_mnt\r\n"
              "1,bulgan,Булган,\"'=Bulgan\",2,2,87.50,1,1,0,,,,,-100.10,100000.10\r\n"
              ",tuv,,,1,0,,0,0,0,,,,,,\r\n");
    CHECK(csv && len == strlen(csv));
    free(csv);
    CHECK(dash_export_csv(DASH_TABLE_NONE, body, &csv, &len, why, sizeof why) == -1);
    json_decref(body);
}

static void test_prom_lines(void) {
    const char *labels[] = {"worker", "h\\o\"st\n1", NULL};
    CAPTURE(dash_prom_sample(f_, "agg_x_total", labels, -5));
    CHECK_STR(out_buf, "agg_x_total{worker=\"h\\\\o\\\"st\\n1\"} -5\n");
    CAPTURE(dash_prom_sample(f_, "agg_up", NULL, 1));
    CHECK_STR(out_buf, "agg_up 1\n");
    CAPTURE(dash_prom_header(f_, "agg_x_total", "counter", "a \\ b\nc"));
    CHECK_STR(out_buf, "# HELP agg_x_total a \\\\ b\\nc\n# TYPE agg_x_total counter\n");
}

static void test_prom_workers(void) {
    json_t *docs[2];
    docs[0] = json_pack("{s:s,s:i,s:i,s:s}", "member", "b:2", "records_applied", 7, "lag",
                        3, "last_error", "");
    docs[1] = json_pack("{s:s,s:i,s:s}", "member", "a:1", "dlq", 1, "last_error", "x\"y");
    CAPTURE(dash_metrics_workers(f_, docs, 2));
    CHECK(strstr(out_buf, "agg_worker_records_applied_total{worker=\"b:2\"} 7\n") != NULL);
    CHECK(strstr(out_buf, "agg_worker_dlq_total{worker=\"a:1\"} 1\n") != NULL);
    CHECK(strstr(out_buf, "agg_worker_lag{worker=\"b:2\"} 3\n") != NULL);
    CHECK(strstr(out_buf,
                 "agg_worker_last_error_info{worker=\"a:1\",error=\"x\\\"y\"} 1\n") !=
          NULL);
    CHECK(strstr(out_buf, "error_info{worker=\"b:2\"") ==
          NULL); /* empty error: no series */
    CHECK(strstr(out_buf, "agg_worker_dlq_total{worker=\"b:2\"}") ==
          NULL); /* absent field */
    json_decref(docs[0]);
    json_decref(docs[1]);
}

static void test_x100(void) {
    char b[32];
    CHECK(dash_x100_format(12345, b, sizeof b) == 6);
    CHECK_STR(b, "123.45");
    dash_x100_format(-5, b, sizeof b);
    CHECK_STR(b, "-0.05");
    dash_x100_format(0, b, sizeof b);
    CHECK_STR(b, "0.00");
    dash_x100_format(-9223372036854775807LL - 1, b, sizeof b);
    CHECK_STR(b, "-92233720368547758.08");
    CHECK(dash_x100_format(12345, b, 6) == -1);
    long long v;
    CHECK(dash_parse_ll("-42", 3, &v) == 0 && v == -42);
    CHECK(dash_parse_ll("4x", 2, &v) == -1);
    CHECK(dash_parse_ll("-", 1, &v) == -1);
    CHECK(dash_parse_ll("99999999999999999999", 20, &v) == -1);
}

static void test_goal_order(void) {
    CHECK(dash_goal_cmp("3", "6.1") < 0);
    CHECK(dash_goal_cmp("6.2", "10") < 0);
    CHECK(dash_goal_cmp("6.10", "6.9") > 0);
    CHECK(dash_goal_cmp("6", "6.1") < 0);
    CHECK(dash_goal_cmp("06", "6") == 0); /* leading zeros do not count */
    CHECK(dash_goal_cmp("a", "b") < 0);
    CHECK(dash_goal_cmp("6.1", "6.1") == 0);
}

/* A fake HGETALL reply. */
static redisReply str_reply(const char *s) {
    redisReply r = {0};
    r.type = REDIS_REPLY_STRING;
    r.str = (char *)s;
    r.len = strlen(s);
    return r;
}

static void test_scope_json(void) {
    const char *kv[] = {"updated_ms",
                        "1",
                        "unmet",
                        "1",
                        "indicators",
                        "2",
                        "assessed",
                        "1",
                        "completion_sum_x100",
                        "0",
                        "completion_avg",
                        "0.00",
                        "met",
                        "0",
                        "partial",
                        "0",
                        "target_x100:mnt",
                        "80000000",
                        "achieved_x100:mnt",
                        "0",
                        "target_x100:pct",
                        "5"};
    size_t n = sizeof kv / sizeof *kv;
    redisReply el[32], *ptr[32], h = {0};
    for (size_t i = 0; i < n; i++) {
        el[i] = str_reply(kv[i]);
        ptr[i] = &el[i];
    }
    h.type = REDIS_REPLY_ARRAY;
    h.elements = n;
    h.element = ptr;
    json_t *j = NULL;
    char why[100];
    CHECK(dash_scope_json(&h, &j, why, sizeof why) == 0);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    CHECK_STR(
        text ? text : "",
        "{\"indicators\":2,\"assessed\":1,\"completion_sum_x100\":0,\"completion_avg\":"
        "\"0.00\",\"met\":0,\"partial\":0,\"unmet\":1,\"amounts\":{\"mnt\":{"
        "\"target_x100\":80000000,\"achieved_x100\":0,\"target\":\"800000.00\","
        "\"achieved\":\"0.00\"}},\"updated_ms\":1}");
    free(text);
    json_decref(j);
    /* a corrupt count is an error, not a zero */
    el[3] = str_reply("x1");
    CHECK(dash_scope_json(&h, &j, why, sizeof why) == -1 && j == NULL);
    el[3] = str_reply("1");
    el[11] = str_reply("0.0"); /* completion_avg not in the 0.00 shape */
    CHECK(dash_scope_json(&h, &j, why, sizeof why) == -1);
    /* empty hash: the scope does not exist */
    h.elements = 0;
    CHECK(dash_scope_json(&h, &j, why, sizeof why) == 0 && j == NULL);
}

static void test_reference_titles_with_commas(void) {
    static dash_ref_t ref;
    char why[200];
    CHECK(dash_ref_load(&ref, NULL, NULL, why, sizeof why) == 0);
    const dash_goal_ref_t *g = dash_ref_goal(&ref, "3");
    CHECK(g != NULL);
    CHECK_STR(g ? g->title_en : "",
              "Collect fund revenue, widen coverage, pay pensions and benefits on time, "
              "execute the budget");
    const dash_region_ref_t *r = dash_ref_region(&ref, "khuvsgul");
    CHECK(r != NULL);
    CHECK_STR(r ? r->name_mn : "", "Хөвсгөл");
    CHECK(ref.expected.count == 30 && ref.nregions == 30);
}

static void test_comma_lists(void) {
    CHECK(dash_list_has("tuv,uvs,khovd", "uvs", 3, false));
    CHECK(dash_list_has("tuv,uvs,khovd", "khovd", 5, false));
    CHECK(!dash_list_has("tuv,uvs,khovd", "uv", 2, false)); /* whole entries only */
    CHECK(!dash_list_has("tuv,uvs", "TUV", 3, false));
    CHECK(dash_list_has("Dash.Office.mn", "dash.office.mn", 14, true));
    CHECK(!dash_list_has("", "tuv", 3, false));
    CHECK(!dash_list_has(NULL, "tuv", 3, false));
}

TEST_MAIN(TEST(test_csv_formula_cells_get_a_quote), TEST(test_csv_numbers_stay_numbers),
          TEST(test_csv_quoting), TEST(test_csv_table_of_a_goal), TEST(test_prom_lines),
          TEST(test_prom_workers), TEST(test_x100), TEST(test_goal_order),
          TEST(test_scope_json), TEST(test_reference_titles_with_commas),
          TEST(test_comma_lists))
