/* summary.c: the summary event's two conversions (summary.h). */
#include "agg/summary.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/record.h"
#include "report.pb-c.h"

/* ---------------------------------------------------------------- outbox -> protobuf */

/* A string-valued integer field; absent or "" = not set (returns 0 with *has false). */
static int get_i64(json_t *obj, const char *name, bool *has, int64_t *out, char *errstr,
                   size_t errstr_size) {
    json_t *v = json_object_get(obj, name);
    *has = false;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        snprintf(errstr, errstr_size, "outbox entry: %s is not a string", name);
        return -1;
    }
    const char *s = json_string_value(v);
    if (s[0] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end != '\0') {
        snprintf(errstr, errstr_size, "outbox entry: %s \"%.40s\" is not an integer", name, s);
        return -1;
    }
    *has = true;
    *out = x;
    return 0;
}

static const char *get_str(json_t *obj, const char *name) {
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* Splits "a,b,c" into a malloc'd array of malloc'd strings. */
static int split_list(const char *s, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!s || !*s)
        return 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return -1;
    const char *p = s;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l > 0 && (v[*n] = strndup(p, l)) == NULL)
            return -1; /* leak of the rest on OOM is acceptable: the caller aborts */
        if (l > 0)
            (*n)++;
        p += l + (c != NULL);
    }
    *out = v;
    return 0;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The totals of a scope from its Redis fields (as strings). Units are count, person and
 * mnt: the only summed ones. Fills t and its sums (caller-provided, 3 entries). */
static int totals_from(json_t *obj, Agg__V1__ScopeTotals *t, Agg__V1__ScopeTotals__UnitSum *sums,
                       Agg__V1__ScopeTotals__UnitSum **sump, char *errstr, size_t errstr_size) {
    static const char *const unit_names[3] = {"count", "person", "mnt"};
    static const int units[3] = {AGG__V1__UNIT__UNIT_COUNT, AGG__V1__UNIT__UNIT_PERSON,
                                 AGG__V1__UNIT__UNIT_MNT};
    bool has;
    int64_t v;
    agg__v1__scope_totals__init(t);
    if (!json_is_object(obj))
        return 0;
#define U64(field)                                                                     \
    do {                                                                               \
        if (get_i64(obj, #field, &has, &v, errstr, errstr_size))                       \
            return -1;                                                                 \
        t->has_##field = has;                                                          \
        t->field = has ? (uint64_t)v : 0;                                              \
    } while (0)
    U64(indicators);
    U64(assessed);
    U64(completion_sum_x100);
    U64(met);
    U64(partial);
    U64(unmet);
#undef U64
    const char *avg = get_str(obj, "completion_avg");
    t->completion_avg = avg[0] ? (char *)avg : NULL;
    size_t n = 0;
    for (int u = 0; u < 3; u++) {
        char tf[64], af[64];
        bool ht, ha;
        int64_t tv = 0, av = 0;
        snprintf(tf, sizeof tf, "target_x100:%s", unit_names[u]);
        snprintf(af, sizeof af, "achieved_x100:%s", unit_names[u]);
        if (get_i64(obj, tf, &ht, &tv, errstr, errstr_size) ||
            get_i64(obj, af, &ha, &av, errstr, errstr_size))
            return -1;
        if (!ht && !ha)
            continue;
        agg__v1__scope_totals__unit_sum__init(&sums[n]);
        sums[n].unit = units[u];
        sums[n].has_target_x100 = ht;
        sums[n].target_x100 = tv;
        sums[n].has_achieved_x100 = ha;
        sums[n].achieved_x100 = av;
        sump[n] = &sums[n];
        n++;
    }
    t->n_sums = n;
    t->sums = n ? sump : NULL;
    return 0;
}

long agg_summary_from_outbox(const char *json, size_t len, uint8_t **out,
                             char id[AGG_SUMMARY_ID_MAX + 1], char quarter[16],
                             char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    long rc = -1;
    *out = NULL;
    if (!root || !json_is_object(root)) {
        snprintf(errstr, errstr_size, "outbox entry is not a JSON object: %s",
                 root ? "wrong type" : jerr.text);
        json_decref(root);
        return -1;
    }
    Agg__V1__Summary s = AGG__V1__SUMMARY__INIT;
    Agg__V1__ScopeTotals totals;
    Agg__V1__ScopeTotals__UnitSum sums[3], *sump[3];
    json_t *goals = json_object_get(root, "goals");
    size_t ngoals = json_is_array(goals) ? json_array_size(goals) : 0; /* {} = none (cjson) */
    Agg__V1__GoalRow *rows = calloc(ngoals ? ngoals : 1, sizeof *rows);
    Agg__V1__GoalRow **rowp = calloc(ngoals ? ngoals : 1, sizeof *rowp);
    Agg__V1__ScopeTotals *gt = calloc(ngoals ? ngoals : 1, sizeof *gt);
    Agg__V1__ScopeTotals__UnitSum *gsums = calloc(ngoals ? 3 * ngoals : 1, sizeof *gsums);
    Agg__V1__ScopeTotals__UnitSum **gsump = calloc(ngoals ? 3 * ngoals : 1, sizeof *gsump);
    char **missing = NULL, **late = NULL, **offs = NULL;
    size_t nmissing = 0, nlate = 0, noffs = 0;
    Agg__V1__PartitionOffset *po = NULL, **pop = NULL;
    bool has;
    int64_t v;

    if (!rows || !rowp || !gt || !gsums || !gsump) {
        snprintf(errstr, errstr_size, "out of memory");
        goto done;
    }
    const char *sid = get_str(root, "id"), *q = get_str(root, "quarter");
    if (!sid[0] || strlen(sid) > AGG_SUMMARY_ID_MAX || !q[0] || strlen(q) > 15) {
        snprintf(errstr, errstr_size, "outbox entry without a valid id or quarter");
        goto done;
    }
    snprintf(id, AGG_SUMMARY_ID_MAX + 1, "%s", sid);
    snprintf(quarter, 16, "%s", q);
    s.id = (char *)sid;
    s.quarter = (char *)q;
    s.scope = (char *)get_str(root, "scope");
    if (get_i64(root, "revision", &has, &v, errstr, errstr_size))
        goto done;
    if (!has || v < 1 || v > UINT32_MAX) {
        snprintf(errstr, errstr_size, "outbox entry %s: bad revision", sid);
        goto done;
    }
    s.revision = (uint32_t)v;
    s.has_replayed = get_str(root, "replayed")[0] == '1';
    s.replayed = s.has_replayed;
    if (totals_from(json_object_get(root, "totals"), &totals, sums, sump, errstr,
                    errstr_size))
        goto done;
    s.totals = &totals;
    for (size_t i = 0; i < ngoals; i++) {
        json_t *g = json_array_get(goals, i);
        agg__v1__goal_row__init(&rows[i]);
        rows[i].goal = (char *)get_str(g, "goal");
        if (totals_from(json_object_get(g, "totals"), &gt[i], &gsums[3 * i], &gsump[3 * i],
                        errstr, errstr_size))
            goto done;
        rows[i].totals = &gt[i];
        rowp[i] = &rows[i];
    }
    s.n_goals = ngoals;
    s.goals = ngoals ? rowp : NULL;

#define OPT_I64(field)                                                                 \
    do {                                                                               \
        if (get_i64(root, #field, &has, &v, errstr, errstr_size))                      \
            goto done;                                                                 \
        s.has_##field = has;                                                           \
        s.field = has ? v : 0;                                                         \
    } while (0)
    OPT_I64(regions_expected);
    OPT_I64(regions_reported);
    OPT_I64(regions_on_time);
    OPT_I64(closed_ms);
    OPT_I64(emitted_ms);
    OPT_I64(deadline_ms);
    OPT_I64(late_records);
    OPT_I64(first_submitted_ms);
    OPT_I64(partitions);
#undef OPT_I64
    const char *on_time = get_str(root, "on_time");
    if (on_time[0]) {
        s.has_on_time = true;
        s.on_time = on_time[0] == '1';
    }
    const char *rate = get_str(root, "reporting_rate"), *otr = get_str(root, "on_time_rate");
    s.reporting_rate = rate[0] ? (char *)rate : NULL;
    s.on_time_rate = otr[0] ? (char *)otr : NULL;
    const char *topic = get_str(root, "topic");
    s.topic = topic[0] ? (char *)topic : NULL;
    if (split_list(get_str(root, "regions_missing"), &missing, &nmissing) ||
        split_list(get_str(root, "regions_late"), &late, &nlate) ||
        split_list(get_str(root, "offsets"), &offs, &noffs)) {
        snprintf(errstr, errstr_size, "out of memory");
        goto done;
    }
    s.n_regions_missing = nmissing;
    s.regions_missing = missing;
    s.n_regions_late = nlate;
    s.regions_late = late;
    po = calloc(noffs ? noffs : 1, sizeof *po);
    pop = calloc(noffs ? noffs : 1, sizeof *pop);
    if (!po || !pop) {
        snprintf(errstr, errstr_size, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < noffs; i++) {
        unsigned part;
        long long off;
        if (sscanf(offs[i], "%u:%lld", &part, &off) != 2) {
            snprintf(errstr, errstr_size, "outbox entry %s: bad offset \"%s\"", sid, offs[i]);
            goto done;
        }
        agg__v1__partition_offset__init(&po[i]);
        po[i].partition = part;
        po[i].offset = off;
        pop[i] = &po[i];
    }
    s.n_offsets = noffs;
    s.offsets = noffs ? pop : NULL;

    size_t size = agg__v1__summary__get_packed_size(&s);
    *out = malloc(size ? size : 1);
    if (!*out) {
        snprintf(errstr, errstr_size, "out of memory");
        goto done;
    }
    rc = (long)agg__v1__summary__pack(&s, *out);
    {
        /* What is sent must read back (agg-summaries, the replay's comparison): the
         * same checks decide, e.g. a control character in a region list. */
        char id2[AGG_SUMMARY_ID_MAX + 1], scope2[AGG_SUMMARY_ID_MAX + 1], why[256];
        uint32_t rev2;
        char *back = agg_summary_to_json(*out, (size_t)rc, id2, scope2, &rev2, why, sizeof why);
        if (!back) {
            snprintf(errstr, errstr_size, "outbox entry %s: %s", sid, why);
            free(*out);
            *out = NULL;
            rc = -1;
        }
        free(back);
    }
done:
    free(rows);
    free(rowp);
    free(gt);
    free(gsums);
    free(gsump);
    free(po);
    free(pop);
    free_list(missing, nmissing);
    free_list(late, nlate);
    free_list(offs, noffs);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- protobuf -> JSON */

static const char *unit_name(int u) {
    switch (u) {
    case AGG__V1__UNIT__UNIT_COUNT: return "count";
    case AGG__V1__UNIT__UNIT_PERSON: return "person";
    case AGG__V1__UNIT__UNIT_MNT: return "mnt";
    case AGG__V1__UNIT__UNIT_PCT: return "pct";
    default: return "text";
    }
}

static json_t *totals_json(const Agg__V1__ScopeTotals *t) {
    json_t *o = json_object();
    if (!t || !o)
        return o;
    json_object_set_new(o, "indicators", json_integer((json_int_t)t->indicators));
    json_object_set_new(o, "assessed", json_integer((json_int_t)t->assessed));
    json_object_set_new(o, "completion_sum_x100", json_integer((json_int_t)t->completion_sum_x100));
    if (t->completion_avg)
        json_object_set_new(o, "completion_avg", json_string(t->completion_avg));
    json_object_set_new(o, "met", json_integer((json_int_t)t->met));
    json_object_set_new(o, "partial", json_integer((json_int_t)t->partial));
    json_object_set_new(o, "unmet", json_integer((json_int_t)t->unmet));
    for (size_t i = 0; i < t->n_sums; i++) {
        char f[64];
        const Agg__V1__ScopeTotals__UnitSum *u = t->sums[i];
        if (u->has_target_x100) {
            snprintf(f, sizeof f, "target_x100:%s", unit_name(u->unit));
            json_object_set_new(o, f, json_integer((json_int_t)u->target_x100));
        }
        if (u->has_achieved_x100) {
            snprintf(f, sizeof f, "achieved_x100:%s", unit_name(u->unit));
            json_object_set_new(o, f, json_integer((json_int_t)u->achieved_x100));
        }
    }
    return o;
}

static json_t *strings_json(char **v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static bool bad_text(const char *t) {
    return t != NULL && agg_check_text(t, strlen(t), SIZE_MAX, NULL, 0) != 0;
}

/* protobuf-c does not check that proto2 strings are UTF-8, and jansson's json_string()
 * returns NULL for one that is not, which json_object_set_new() then drops: a message
 * with a bad id came out as an object without "id" (found by fuzz_summary_json).
 * Returns the name of the first text field that is not valid UTF-8, or NULL. */
static const char *invalid_text_field(const Agg__V1__Summary *s) {
    if (bad_text(s->id))
        return "id";
    if (bad_text(s->quarter))
        return "quarter";
    if (bad_text(s->scope))
        return "scope";
    if (s->totals && bad_text(s->totals->completion_avg))
        return "totals.completion_avg";
    for (size_t i = 0; i < s->n_goals; i++) {
        if (bad_text(s->goals[i]->goal))
            return "goals.goal";
        if (s->goals[i]->totals && bad_text(s->goals[i]->totals->completion_avg))
            return "goals.totals.completion_avg";
    }
    for (size_t i = 0; i < s->n_regions_missing; i++)
        if (bad_text(s->regions_missing[i]))
            return "regions_missing";
    for (size_t i = 0; i < s->n_regions_late; i++)
        if (bad_text(s->regions_late[i]))
            return "regions_late";
    if (bad_text(s->reporting_rate))
        return "reporting_rate";
    if (bad_text(s->on_time_rate))
        return "on_time_rate";
    if (bad_text(s->topic))
        return "topic";
    return NULL;
}

char *agg_summary_to_json(const uint8_t *data, size_t len, char id[AGG_SUMMARY_ID_MAX + 1],
                          char scope[AGG_SUMMARY_ID_MAX + 1], uint32_t *revision,
                          char *errstr, size_t errstr_size) {
    Agg__V1__Summary *s = agg__v1__summary__unpack(NULL, len, data);
    if (!s) {
        snprintf(errstr, errstr_size, "not a Summary message (%zu bytes)", len);
        return NULL;
    }
    const char *bad = invalid_text_field(s);
    if (bad) {
        snprintf(errstr, errstr_size, "Summary message: %s is not valid UTF-8", bad);
        agg__v1__summary__free_unpacked(s, NULL);
        return NULL;
    }
    snprintf(id, AGG_SUMMARY_ID_MAX + 1, "%s", s->id);
    snprintf(scope, AGG_SUMMARY_ID_MAX + 1, "%s", s->scope);
    *revision = s->revision;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "quarter", json_string(s->quarter));
    json_object_set_new(o, "scope", json_string(s->scope));
    json_object_set_new(o, "revision", json_integer(s->revision));
    json_object_set_new(o, "replayed", json_boolean(s->has_replayed && s->replayed));
    json_object_set_new(o, "totals", totals_json(s->totals));
    json_t *goals = json_array();
    for (size_t i = 0; i < s->n_goals; i++) {
        json_t *g = json_object();
        json_object_set_new(g, "goal", json_string(s->goals[i]->goal));
        json_object_set_new(g, "totals", totals_json(s->goals[i]->totals));
        json_array_append_new(goals, g);
    }
    json_object_set_new(o, "goals", goals);
    if (s->has_regions_expected) {
        json_object_set_new(o, "regions_expected", json_integer(s->regions_expected));
        json_object_set_new(o, "regions_reported", json_integer(s->regions_reported));
        json_object_set_new(o, "regions_on_time", json_integer(s->regions_on_time));
        json_object_set_new(o, "regions_missing", strings_json(s->regions_missing, s->n_regions_missing));
        json_object_set_new(o, "regions_late", strings_json(s->regions_late, s->n_regions_late));
        if (s->reporting_rate)
            json_object_set_new(o, "reporting_rate", json_string(s->reporting_rate));
        if (s->on_time_rate)
            json_object_set_new(o, "on_time_rate", json_string(s->on_time_rate));
    }
    if (s->has_on_time)
        json_object_set_new(o, "on_time", json_boolean(s->on_time));
    if (s->has_first_submitted_ms)
        json_object_set_new(o, "first_submitted_ms", json_integer(s->first_submitted_ms));
    if (s->has_closed_ms)
        json_object_set_new(o, "closed_ms", json_integer(s->closed_ms));
    if (s->has_emitted_ms)
        json_object_set_new(o, "emitted_ms", json_integer(s->emitted_ms));
    if (s->has_deadline_ms)
        json_object_set_new(o, "deadline_ms", json_integer(s->deadline_ms));
    json_object_set_new(o, "late_records", json_integer(s->has_late_records ? s->late_records : 0));
    if (s->topic)
        json_object_set_new(o, "topic", json_string(s->topic));
    if (s->has_partitions)
        json_object_set_new(o, "partitions", json_integer(s->partitions));
    json_t *offs = json_object();
    for (size_t i = 0; i < s->n_offsets; i++) {
        char k[16];
        snprintf(k, sizeof k, "%u", s->offsets[i]->partition);
        json_object_set_new(offs, k, json_integer(s->offsets[i]->offset));
    }
    json_object_set_new(o, "offsets", offs);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    agg__v1__summary__free_unpacked(s, NULL);
    if (!text)
        snprintf(errstr, errstr_size, "out of memory");
    return text;
}
