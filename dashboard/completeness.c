/* /quarters/Q/completeness: who reported, who is missing, who was late (SPEC 8). A
 * closed quarter shows the figures its state holds (the summary's); an open one the
 * same rule applied to the live keys. */
#include <stdlib.h>
#include <string.h>

#include "agg/period.h"
#include "endpoint.h"

/* "87.50"-style percent of a / b, half away from zero; null when b = 0. */
static json_t *rate_json(long long a, long long b) {
    if (b <= 0 || a < 0)
        return json_null();
    long long x100 = (a * 10000 * 2 + b) / (2 * b);
    char buf[32];
    if (dash_x100_format(x100, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

static long long deadline_ms(const dash_ctx_t *ctx, const dash_quarter_t *q) {
    long long v;
    if (dash_state_int(q, "deadline_ms", &v))
        return v;
    return agg_quarter_deadline_ms(q->year, q->quarter, (int)ctx->conf->deadline_day);
}

void dash_api_completeness(dash_ctx_t *ctx, dash_quarter_t *q, dash_result_t *res) {
    bool ok = true;
    long long deadline = deadline_ms(ctx, q);
    const char *status = dash_state_field(q, "status");
    bool closed = status && strcmp(status, "closed") == 0;
    /* A closed quarter's figures are the ones its summary carries (SPEC 8); while it is
     * open they are computed here the same way from the live keys. */
    const char *missing_list = closed ? dash_state_field(q, "regions_missing") : NULL;
    long long expected = (long long)ctx->ref->expected.count, reported = 0, on_time = 0;
    json_t *b = json_object(), *regions = json_array(), *missing = json_array(),
           *late = json_array();
    for (size_t r = 0; r < q->nregions; r++) {
        const dash_qregion_t *rg = &q->regions[r];
        bool is_expected =
            agg_regions_contains(&ctx->ref->expected, rg->code, strlen(rg->code));
        bool is_missing =
            missing_list ? dash_list_has(missing_list, rg->code, strlen(rg->code), false)
                         : is_expected && !rg->reported;
        json_t *rj = dash_region_json(rg);
        json_t *timely = json_null();
        if (rg->reported && rg->has_first) {
            timely = json_boolean(rg->first_ms <= deadline);
            on_time += rg->first_ms <= deadline && is_expected;
            if (rg->first_ms > deadline)
                dash_push(late, json_incref(rj), &ok);
        }
        reported += rg->reported && is_expected;
        dash_put(rj, "expected", json_boolean(is_expected), &ok);
        dash_put(rj, "reported", json_boolean(rg->reported), &ok);
        dash_put(rj, "last_submitted_ms", dash_int_or_null(rg->reported, rg->last_ms), &ok);
        dash_put(rj, "first_submitted_ms", dash_int_or_null(rg->has_first, rg->first_ms),
                 &ok);
        dash_put(rj, "on_time", timely, &ok);
        if (is_missing)
            dash_push(missing, json_incref(rj), &ok);
        dash_push(regions, rj, &ok);
    }
    long long v;
    if (closed && dash_state_int(q, "regions_expected", &v))
        expected = v;
    if (closed && dash_state_int(q, "regions_reported", &v))
        reported = v;
    bool on_time_known = q->has_first;
    if (closed && dash_state_int(q, "regions_on_time", &v)) {
        on_time = v;
        on_time_known = true;
    }
    dash_put(b, "quarter", json_string(q->id), &ok);
    dash_put(b, "state", dash_state_json(q, &ok), &ok);
    dash_put(b, "deadline_ms", json_integer((json_int_t)deadline), &ok);
    dash_put(b, "regions_expected", json_integer((json_int_t)expected), &ok);
    dash_put(b, "regions_reported", json_integer((json_int_t)reported), &ok);
    dash_put(b, "regions_on_time", dash_int_or_null(on_time_known, on_time), &ok);
    dash_put(b, "reporting_rate", rate_json(reported, expected), &ok);
    dash_put(b, "on_time_rate", on_time_known ? rate_json(on_time, expected) : json_null(),
             &ok);
    dash_put(b, "missing", missing, &ok);
    /* Without agg:Q:regions:first nobody can say who was late: null, not []. */
    if (on_time_known && q->has_first) {
        dash_put(b, "late", late, &ok);
    } else {
        json_decref(late);
        dash_put(b, "late", json_null(), &ok);
    }
    dash_put(b, "regions", regions, &ok);
    dash_answer(res, b, ok, DASH_TABLE_COMPLETENESS);
}
