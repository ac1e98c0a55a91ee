/* A scope hash of SPEC 5 as JSON. Counts and x100 sums are JSON integers, exactly as
 * Redis holds them; decimals (completion_avg, amounts in units) are strings such as
 * "87.50", because a JSON number would go through a double in most readers (and in
 * jansson's own printer) and could come out as 87.499999. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "dash.h"

int dash_x100_format(long long v, char *buf, size_t bufsz) {
    /* LLONG_MIN has no positive counterpart: go through unsigned. */
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(buf, bufsz, "%s%llu.%02llu", v < 0 ? "-" : "", m / 100, m % 100);
    return n < 0 || (size_t)n >= bufsz ? -1 : n;
}

int dash_parse_ll(const char *s, size_t len, long long *out) {
    if (len == 0 || len > 20)
        return -1;
    char tmp[24];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    size_t i = tmp[0] == '-' ? 1 : 0;
    if (i == len)
        return -1;
    for (; i < len; i++)
        if (tmp[i] < '0' || tmp[i] > '9')
            return -1;
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* Summed units of SPEC 5 (pct and text are counted, not summed), in display order. */
static const char *const units[] = {"count", "person", "mnt"};
#define NUNITS (sizeof units / sizeof *units)

static const char *const int_fields[] = {"indicators", "assessed", "completion_sum_x100",
                                         "met",        "partial",  "unmet",
                                         "updated_ms"};

static int set_int(json_t *obj, const char *key, long long v) {
    return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static int set_decimal(json_t *obj, const char *key, long long v_x100) {
    char buf[32];
    if (dash_x100_format(v_x100, buf, sizeof buf) < 0)
        return -1;
    return json_object_set_new(obj, key, json_string(buf));
}

/* completion_avg must look like "87.50" (SPEC 5): it is passed on as written, so the
 * page shows what Redis holds, after this check that it is that shape. */
static bool is_avg(const char *s, size_t len) {
    size_t dot = 0, i = 0;
    if (len < 4 || len > 16)
        return false;
    for (; i < len; i++) {
        if (s[i] == '.') {
            if (dot)
                return false;
            dot = i;
        } else if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return dot > 0 && len - dot == 3;
}

int dash_scope_json(const redisReply *h, json_t **out, char *errstr, size_t errstr_size) {
    *out = NULL;
    if (!h || h->type != REDIS_REPLY_ARRAY || h->elements % 2)
        return agg_fail(errstr, errstr_size, "scope: not a hash");
    if (h->elements == 0)
        return 0;
    json_t *obj = json_object(), *amounts = json_object();
    json_t *unit_obj[NUNITS] = {0};
    if (!obj || !amounts)
        goto oom;
    int fail = 0;
    for (size_t i = 0; i < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        long long n;
        bool is_int = dash_parse_ll(v->str, v->len, &n) == 0;
        if (strcmp(k->str, "completion_avg") == 0) {
            if (!is_avg(v->str, v->len)) {
                json_decref(obj);
                json_decref(amounts);
                return agg_fail(errstr, errstr_size, "scope: completion_avg \"%.*s\"",
                                (int)(v->len > 32 ? 32 : v->len), v->str);
            }
            fail |=
                json_object_set_new(obj, "completion_avg", json_stringn(v->str, v->len));
            continue;
        }
        for (size_t f = 0; f < sizeof int_fields / sizeof *int_fields; f++) {
            if (strcmp(k->str, int_fields[f]) != 0)
                continue;
            if (!is_int)
                goto bad;
            fail |= set_int(obj, int_fields[f], n);
        }
        for (size_t u = 0; u < NUNITS; u++) {
            const char *which = NULL;
            size_t ulen = strlen(units[u]);
            if (k->len == 12 + ulen && strncmp(k->str, "target_x100:", 12) == 0 &&
                strcmp(k->str + 12, units[u]) == 0)
                which = "target";
            else if (k->len == 14 + ulen && strncmp(k->str, "achieved_x100:", 14) == 0 &&
                     strcmp(k->str + 14, units[u]) == 0)
                which = "achieved";
            if (!which)
                continue;
            if (!is_int)
                goto bad;
            if (!unit_obj[u]) {
                unit_obj[u] = json_pack("{s:n,s:n,s:n,s:n}", "target_x100", "achieved_x100",
                                        "target", "achieved");
                if (!unit_obj[u])
                    goto oom;
            }
            char key[16];
            snprintf(key, sizeof key, "%s_x100", which);
            fail |= set_int(unit_obj[u], key, n);
            fail |= set_decimal(unit_obj[u], which, n);
        }
        continue;
    bad:
        json_decref(obj);
        json_decref(amounts);
        for (size_t u = 0; u < NUNITS; u++)
            json_decref(unit_obj[u]);
        return agg_fail(errstr, errstr_size, "scope: field %s is not an integer", k->str);
    }
    /* Every field of SPEC 5 is there, null when the hash lacks it (completion_avg when
     * nothing is assessed), so readers need no "is it there" checks. */
    for (size_t f = 0; f < sizeof int_fields / sizeof *int_fields; f++)
        if (!json_object_get(obj, int_fields[f]))
            fail |= json_object_set_new(obj, int_fields[f], json_null());
    if (!json_object_get(obj, "completion_avg"))
        fail |= json_object_set_new(obj, "completion_avg", json_null());
    for (size_t u = 0; u < NUNITS; u++) {
        if (unit_obj[u])
            fail |= json_object_set_new(amounts, units[u], unit_obj[u]);
        unit_obj[u] = NULL;
    }
    fail |= json_object_set_new(obj, "amounts", amounts);
    amounts = NULL;
    if (fail)
        goto oom;
    /* The same key order whatever order HGETALL gave: answers are comparable as text. */
    static const char *const order[] = {"indicators",     "assessed", "completion_sum_x100",
                                        "completion_avg", "met",      "partial",
                                        "unmet",          "amounts",  "updated_ms"};
    json_t *sorted = json_object();
    for (size_t i = 0; sorted && i < sizeof order / sizeof *order; i++)
        if (json_object_set(sorted, order[i], json_object_get(obj, order[i])) != 0) {
            json_decref(sorted);
            sorted = NULL;
        }
    json_decref(obj);
    obj = NULL;
    if (!sorted)
        goto oom;
    *out = sorted;
    return 0;
oom:
    json_decref(obj);
    json_decref(amounts);
    for (size_t u = 0; u < NUNITS; u++)
        json_decref(unit_obj[u]);
    return agg_fail(errstr, errstr_size, "scope: out of memory");
}
