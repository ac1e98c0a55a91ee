/* CSV exports of the page's tables, built from the same JSON the API answers with, so
 * a download always shows what the page shows.
 *
 * Spreadsheets run a cell that begins with = + - @ (and, in some, a tab or CR) as a
 * formula; region names or titles are not ours to trust, so such text gets a leading
 * single quote. Numbers must stay numbers: JSON integers and our own decimal strings
 * ("-12.50") are written bare, which is also why they never need the quote. */
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "dash.h"

bool dash_csv_is_number(const char *s, size_t len) {
    size_t i = 0, digits = 0;
    if (len > 0 && s[0] == '-')
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (digits == 0)
        return false;
    if (i == len)
        return true;
    if (s[i] != '.')
        return false;
    size_t frac = 0;
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        frac++;
    return frac > 0 && i == len;
}

static int text_cell(FILE *out, const char *s, size_t len) {
    if (dash_csv_is_number(s, len))
        return fwrite(s, 1, len, out) == len ? 0 : -1;
    bool formula = len > 0 && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula || memchr(s, ',', len) || memchr(s, '"', len) ||
                 memchr(s, '\n', len) || memchr(s, '\r', len) ||
                 (len > 0 && (s[0] == ' ' || s[len - 1] == ' '));
    if (!quote)
        return fwrite(s, 1, len, out) == len ? 0 : -1;
    if (fputc('"', out) == EOF || (formula && fputc('\'', out) == EOF))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' && fputc('"', out) == EOF)
            return -1;
        if (fputc(s[i], out) == EOF)
            return -1;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}

int dash_csv_cell(FILE *out, const json_t *v) {
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v))
        return fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0 ? -1 : 0;
    if (json_is_true(v))
        return fputs("true", out) == EOF ? -1 : 0;
    if (json_is_false(v))
        return fputs("false", out) == EOF ? -1 : 0;
    if (json_is_string(v))
        return text_cell(out, json_string_value(v), json_string_length(v));
    return -1; /* objects and arrays are not cells */
}

/* ---- rows ---- */

/* A column: a label for the header and a path into the row object ("scope.met",
 * "amounts.mnt.target"); the path is looked up with '.' between keys, except that a
 * key given whole in key2 is taken as is (goal codes contain dots). */
typedef struct {
    const char *label;
    const char *path;
} col_t;

static const json_t *dig(const json_t *obj, const char *path) {
    char buf[128];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return NULL;
    memcpy(buf, path, len + 1);
    const json_t *v = obj;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v;
         k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    return v;
}

static const col_t scope_cols[] = {
    {"indicators", "indicators"},
    {"assessed", "assessed"},
    {"completion_avg", "completion_avg"},
    {"met", "met"},
    {"partial", "partial"},
    {"unmet", "unmet"},
    {"target_count", "amounts.count.target"},
    {"achieved_count", "amounts.count.achieved"},
    {"target_person", "amounts.person.target"},
    {"achieved_person", "amounts.person.achieved"},
    {"target_mnt", "amounts.mnt.target"},
    {"achieved_mnt", "amounts.mnt.achieved"},
};
#define NSCOPE (sizeof scope_cols / sizeof *scope_cols)

static int line_end(FILE *out) {
    return fputs("\r\n", out) == EOF ? -1 : 0;
}

static int sep(FILE *out, bool *first) {
    if (*first) {
        *first = false;
        return 0;
    }
    return fputc(',', out) == EOF ? -1 : 0;
}

/* Header: the lead columns, then the scope columns. */
static int header(FILE *out, const char *const *lead, size_t nlead, bool with_scope) {
    bool first = true;
    json_t *s;
    for (size_t i = 0; i < nlead; i++) {
        s = json_string(lead[i]);
        int rc = sep(out, &first) || dash_csv_cell(out, s);
        json_decref(s);
        if (rc)
            return -1;
    }
    for (size_t i = 0; with_scope && i < NSCOPE; i++)
        if (sep(out, &first) || fputs(scope_cols[i].label, out) == EOF)
            return -1;
    return line_end(out);
}

/* One row: the lead cells (paths into row), then the scope object's columns. */
static int row(FILE *out, const json_t *obj, const char *const *lead, size_t nlead,
               const json_t *scope) {
    bool first = true;
    for (size_t i = 0; i < nlead; i++)
        if (sep(out, &first) || dash_csv_cell(out, dig(obj, lead[i])))
            return -1;
    for (size_t i = 0; scope && i < NSCOPE; i++)
        if (sep(out, &first) ||
            dash_csv_cell(out,
                          json_is_object(scope) ? dig(scope, scope_cols[i].path) : NULL))
            return -1;
    return line_end(out);
}

static int rows_of(FILE *out, const json_t *arr, const char *const *lead, size_t nlead,
                   bool with_scope) {
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        const json_t *scope = json_object_get(e, "scope");
        if (row(out, e, lead, nlead, with_scope ? (scope ? scope : json_null()) : NULL))
            return -1;
    }
    return 0;
}

#define N(a) (sizeof(a) / sizeof *(a))

static int write_table(FILE *out, dash_table_t table, const json_t *b) {
    switch (table) {
    case DASH_TABLE_QUARTERS: {
        static const char *const lead[] = {"quarter", "status", "summary_revision",
                                           "closed_ms"};
        return header(out, lead, N(lead), false) ||
               rows_of(out, json_object_get(b, "quarters"), lead, N(lead), false);
    }
    case DASH_TABLE_QUARTER: {
        static const char *const lead[] = {"quarter", "state.status", "regions_expected",
                                           "regions_reported"};
        static const char *const label[] = {"quarter", "status", "regions_expected",
                                            "regions_reported"};
        return header(out, label, N(label), true) ||
               row(out, b, lead, N(lead), json_object_get(b, "total"));
    }
    case DASH_TABLE_REGION: {
        static const char *const lead[] = {"code", "title_en", "rank", "ranked"};
        static const char *const label[] = {"goal", "title_en", "rank", "ranked"};
        return header(out, label, N(label), true) ||
               rows_of(out, json_object_get(b, "goals"), lead, N(lead), true);
    }
    case DASH_TABLE_GOAL: {
        static const char *const lead[] = {"rank", "code", "name_mn", "name_en"};
        static const char *const label[] = {"rank", "region", "name_mn", "name_en"};
        return header(out, label, N(label), true) ||
               rows_of(out, json_object_get(b, "regions"), lead, N(lead), true);
    }
    case DASH_TABLE_COMPLETENESS: {
        static const char *const lead[] = {
            "code",     "name_mn", "name_en",           "expected",
            "reported", "on_time", "last_submitted_ms", "first_submitted_ms"};
        static const char *const label[] = {
            "region",   "name_mn", "name_en",           "expected",
            "reported", "on_time", "last_submitted_ms", "first_submitted_ms"};
        return header(out, label, N(label), false) ||
               rows_of(out, json_object_get(b, "regions"), lead, N(lead), false);
    }
    case DASH_TABLE_MATRIX: {
        /* The heat map: one row per region, one completion column per goal. */
        const json_t *goals = json_object_get(b, "goals"),
                     *regions = json_object_get(b, "regions");
        static const char *const lead[] = {"region", "name_mn", "name_en",
                                           "completion_avg"};
        bool first = true;
        for (size_t i = 0; i < N(lead); i++)
            if (sep(out, &first) || fputs(lead[i], out) == EOF)
                return -1;
        size_t gi, ri;
        const json_t *g, *r;
        json_array_foreach(goals, gi, g) {
            /* a header cell is text like any other: a goal code is neutralised too */
            if (sep(out, &first) || dash_csv_cell(out, json_object_get(g, "code")))
                return -1;
        }
        if (line_end(out))
            return -1;
        json_array_foreach(regions, ri, r) {
            first = true;
            static const char *const paths[] = {"code", "name_mn", "name_en",
                                                "scope.completion_avg"};
            for (size_t i = 0; i < N(paths); i++)
                if (sep(out, &first) || dash_csv_cell(out, dig(r, paths[i])))
                    return -1;
            const json_t *cells = json_object_get(r, "goals");
            json_array_foreach(goals, gi, g) {
                const json_t *cell =
                    json_object_get(cells, json_string_value(json_object_get(g, "code")));
                if (sep(out, &first) ||
                    dash_csv_cell(out,
                                  cell ? json_object_get(cell, "completion_avg") : NULL))
                    return -1;
            }
            if (line_end(out))
                return -1;
        }
        return 0;
    }
    case DASH_TABLE_NONE:
        break;
    }
    return -1;
}

int dash_export_csv(dash_table_t table, const json_t *body, char **csv, size_t *len,
                    char *errstr, size_t errstr_size) {
    *csv = NULL;
    *len = 0;
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out)
        return agg_fail(errstr, errstr_size, "open_memstream failed");
    int rc = write_table(out, table, body);
    if (fclose(out) != 0)
        rc = -1;
    if (rc != 0) {
        free(buf);
        return agg_fail(errstr, errstr_size, "this answer has no CSV form");
    }
    *csv = buf;
    *len = size;
    return 0;
}
