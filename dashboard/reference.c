/* Names the page shows beside the codes: region names in Mongolian and English
 * (reference/regions.csv) and goal titles (reference/goals.csv). The codes of the
 * region file are also the list of regions expected to report, read by the same
 * loader as the workers use (lib/regions.c), so both agree on who is "missing". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/csv.h"
#include "agg/log.h"
#include "dash.h"

typedef struct {
    const char *name;
    char *dst;
    size_t dstsz;
} column_t;

/* Calls row_fn for every data row; cols[i].dst is filled from the column named
 * cols[i].name (empty when the file has no such column; "code" is required). */
typedef int (*row_fn_t)(void *arg, const char *code, size_t code_len, char *errstr,
                        size_t errstr_size);

static int read_table(FILE *in, const char *name, column_t *cols, size_t ncols, row_fn_t fn,
                      void *arg, char *errstr, size_t errstr_size) {
    /* The reader holds a 64 KiB row buffer: on the heap, not the stack. */
    agg_csv_t *csv = malloc(sizeof *csv);
    if (!csv)
        return agg_fail(errstr, errstr_size, "%s: out of memory", name);
    agg_csv_init(csv, in);
    char why[256];
    long idx[8], code_idx = -1;
    int rc = -1;
    if (ncols > sizeof idx / sizeof *idx) {
        agg_fail(errstr, errstr_size, "%s: too many columns asked for", name);
        goto out;
    }
    int r = agg_csv_next(csv, why, sizeof why);
    if (r <= 0) {
        agg_fail(errstr, errstr_size, "%s:%ld: %s", name, csv->line,
                 r < 0 ? why : "empty file (expected a header)");
        goto out;
    }
    for (size_t c = 0; c < ncols; c++)
        idx[c] = -1;
    for (size_t i = 0; i < csv->nfields; i++) {
        if (strcmp(csv->field[i], "code") == 0)
            code_idx = (long)i;
        for (size_t c = 0; c < ncols; c++)
            if (strcmp(csv->field[i], cols[c].name) == 0)
                idx[c] = (long)i;
    }
    size_t header_fields = csv->nfields;
    if (code_idx < 0) {
        agg_fail(errstr, errstr_size, "%s:%ld: no \"code\" column in the header", name,
                 csv->line);
        goto out;
    }
    while ((r = agg_csv_next(csv, why, sizeof why)) != 0) {
        if (r < 0) {
            agg_fail(errstr, errstr_size, "%s:%ld: %s", name, csv->line, why);
            goto out;
        }
        for (size_t c = 0; c < ncols; c++) {
            cols[c].dst[0] = '\0';
            if (idx[c] < 0 || (size_t)idx[c] >= csv->nfields)
                continue;
            /* reference/goals.csv writes titles with commas unquoted; the last column
             * of the header takes the rest of the row, commas included. */
            size_t last =
                (size_t)idx[c] == header_fields - 1 ? csv->nfields : (size_t)idx[c] + 1;
            size_t o = 0;
            for (size_t f = (size_t)idx[c]; f < last; f++) {
                size_t len = csv->field_len[f];
                if (o + len + 2 > cols[c].dstsz) {
                    agg_fail(errstr, errstr_size, "%s:%ld: %s longer than %zu bytes", name,
                             csv->line, cols[c].name, cols[c].dstsz - 1);
                    goto out;
                }
                if (f > (size_t)idx[c])
                    cols[c].dst[o++] = ',';
                memcpy(cols[c].dst + o, csv->field[f], len);
                o += len;
            }
            cols[c].dst[o] = '\0';
        }
        if ((size_t)code_idx >= csv->nfields) {
            agg_fail(errstr, errstr_size, "%s:%ld: no code", name, csv->line);
            goto out;
        }
        char e[200];
        if (fn(arg, csv->field[code_idx], csv->field_len[code_idx], e, sizeof e) != 0) {
            agg_fail(errstr, errstr_size, "%s:%ld: %s", name, csv->line, e);
            goto out;
        }
    }
    rc = 0;
out:
    free(csv);
    return rc;
}

/* Opens path, or the built-in text when path is NULL. */
static FILE *open_source(const char *path, const char *builtin, char *errstr,
                         size_t errstr_size) {
    FILE *in = path ? fopen(path, "r")
                    /* read-only memory stream: the buffer is never written */
                    : fmemopen((void *)builtin, strlen(builtin), "r");
    if (!in)
        agg_fail(errstr, errstr_size, "%s: %s", path ? path : "built-in list",
                 strerror(errno));
    return in;
}

typedef struct {
    dash_ref_t *ref;
    char name_mn[DASH_NAME_MAX], name_en[DASH_NAME_MAX], title_en[256];
} load_t;

static int region_row(void *arg, const char *code, size_t len, char *errstr,
                      size_t errstr_size) {
    load_t *l = arg;
    dash_ref_t *ref = l->ref;
    if (len >= sizeof ref->region[0].code)
        return agg_fail(errstr, errstr_size, "region code too long");
    if (ref->nregions >= AGG_REGIONS_MAX)
        return agg_fail(errstr, errstr_size, "more than %d regions", AGG_REGIONS_MAX);
    dash_region_ref_t *r = &ref->region[ref->nregions++];
    memcpy(r->code, code, len + 1);
    memcpy(r->name_mn, l->name_mn, sizeof r->name_mn);
    memcpy(r->name_en, l->name_en, sizeof r->name_en);
    return 0;
}

static int goal_row(void *arg, const char *code, size_t len, char *errstr,
                    size_t errstr_size) {
    load_t *l = arg;
    dash_ref_t *ref = l->ref;
    if (len >= sizeof ref->goal[0].code)
        return agg_fail(errstr, errstr_size, "goal code too long");
    if (ref->ngoals >= DASH_GOALS_MAX)
        return agg_fail(errstr, errstr_size, "more than %d goals", DASH_GOALS_MAX);
    dash_goal_ref_t *g = &ref->goal[ref->ngoals++];
    memcpy(g->code, code, len + 1);
    memcpy(g->title_en, l->title_en, sizeof g->title_en);
    return 0;
}

static int load_names(const char *path, const char *builtin, const char *name,
                      column_t *cols, size_t ncols, row_fn_t fn, load_t *l, char *errstr,
                      size_t errstr_size) {
    FILE *in = open_source(path, builtin, errstr, errstr_size);
    if (!in)
        return -1;
    int rc = read_table(in, path ? path : name, cols, ncols, fn, l, errstr, errstr_size);
    if (fclose(in) != 0 && rc == 0)
        rc = agg_fail(errstr, errstr_size, "%s: %s", path ? path : name, strerror(errno));
    return rc;
}

int dash_ref_load(dash_ref_t *ref, const char *regions_path, const char *goals_path,
                  char *errstr, size_t errstr_size) {
    memset(ref, 0, sizeof *ref);
    int rc = regions_path
                 ? agg_regions_load(&ref->expected, regions_path, errstr, errstr_size)
                 : agg_regions_load_default(&ref->expected, errstr, errstr_size);
    if (rc != 0)
        return -1;
    /* Heap: three name buffers are small, but the table itself is large. */
    load_t *l = calloc(1, sizeof *l);
    if (!l)
        return agg_fail(errstr, errstr_size, "out of memory");
    l->ref = ref;
    column_t rcols[] = {{"name_mn", l->name_mn, sizeof l->name_mn},
                        {"name_en", l->name_en, sizeof l->name_en}};
    column_t gcols[] = {{"title_en", l->title_en, sizeof l->title_en}};
    rc = load_names(regions_path, agg_default_regions_csv, "reference/regions.csv", rcols,
                    2, region_row, l, errstr, errstr_size);
    if (rc == 0)
        rc = load_names(goals_path, dash_goals_csv, "reference/goals.csv", gcols, 1,
                        goal_row, l, errstr, errstr_size);
    free(l);
    return rc;
}

const dash_region_ref_t *dash_ref_region(const dash_ref_t *ref, const char *code) {
    for (size_t i = 0; i < ref->nregions; i++)
        if (strcmp(ref->region[i].code, code) == 0)
            return &ref->region[i];
    return NULL;
}

const dash_goal_ref_t *dash_ref_goal(const dash_ref_t *ref, const char *code) {
    for (size_t i = 0; i < ref->ngoals; i++)
        if (strcmp(ref->goal[i].code, code) == 0)
            return &ref->goal[i];
    return NULL;
}
