/* The pieces every API answer is built from: results and errors, JSON insertions
 * checked through one flag, a scope reply as JSON, the names of a region or goal. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

void dash_result_clear(dash_result_t *res) {
    json_decref(res->body);
    res->body = NULL;
}

void dash_result_error(dash_result_t *res, int status, const char *code, const char *fmt,
                       ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dash_result_clear(res);
    res->status = status;
    res->table = DASH_TABLE_NONE;
    /* NULL (out of memory) is sent as an empty 500 by http.c. */
    res->body = json_pack("{s:s,s:s,s:i}", "error", code, "message", msg, "status", status);
}

void dash_result_redis(dash_result_t *res, dash_status_t st, const char *why) {
    if (st == DASH_UNAVAILABLE)
        dash_result_error(res, 503, "redis_unavailable", "%s", why);
    else
        dash_result_error(res, 500, "dash_result_redis", "%s", why);
}

void dash_put(json_t *obj, const char *key, json_t *v, bool *ok) {
    if (!obj || json_object_set_new(obj, key, v) != 0)
        *ok = false;
}

void dash_push(json_t *arr, json_t *v, bool *ok) {
    if (!arr || json_array_append_new(arr, v) != 0)
        *ok = false;
}

json_t *dash_int_or_null(bool have, long long v) {
    return have ? json_integer((json_int_t)v) : json_null();
}

/* Makes b the 200 answer; when a step failed (ok false) b is dropped and res keeps the
 * error that step set, or says out of memory. Takes ownership of b. */
void dash_answer(dash_result_t *res, json_t *b, bool ok, dash_table_t table) {
    if (!ok || !b) {
        json_decref(b);
        if (!res->body)
            dash_result_error(res, 500, "internal", "out of memory");
        return;
    }
    res->status = 200;
    res->body = b;
    res->table = table;
}

/* The scope of a reply as JSON (null when the hash is empty). *ok turns false on a
 * failure, with res set. */
json_t *dash_scope_of(const redisReply *r, dash_result_t *res, bool *ok) {
    json_t *j = NULL;
    char why[200];
    if (dash_scope_json(r, &j, why, sizeof why) != 0) {
        dash_result_error(res, 500, "bad_data", "%s", why);
        *ok = false;
        return json_null();
    }
    return j ? j : json_null();
}

json_t *dash_region_json(const dash_qregion_t *r) {
    return json_pack("{s:s,s:s?,s:s?}", "code", r->code, "name_mn",
                     r->ref && r->ref->name_mn[0] ? r->ref->name_mn : NULL, "name_en",
                     r->ref && r->ref->name_en[0] ? r->ref->name_en : NULL);
}

json_t *dash_goal_json(const dash_ctx_t *ctx, const char *code) {
    const dash_goal_ref_t *g = dash_ref_goal(ctx->ref, code);
    return json_pack("{s:s,s:s?}", "code", code, "title_en",
                     g && g->title_en[0] ? g->title_en : NULL);
}
