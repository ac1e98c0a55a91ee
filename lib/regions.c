/* The reference list of reporting regions: the "code" column of a CSV file. */
#include "agg/regions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/csv.h"
#include "agg/record.h"

/* Reads the list from in into regions; name prefixes every error ("name:line: ..."). On
 * failure regions->count is 0 so a half-read list is never used. */
static int load_stream(agg_regions_t *regions, FILE *in, const char *name, char *errstr,
                       size_t errstr_size) {
    regions->count = 0;
    /* The reader holds a whole row buffer (64 KiB): too much for some thread stacks. */
    agg_csv_t *csv = malloc(sizeof *csv);
    if (!csv) {
        snprintf(errstr, errstr_size, "%s: out of memory", name);
        return -1;
    }
    long first_line[AGG_REGIONS_MAX]; /* for "duplicate" messages */
    char why[256];
    long code_col = -1;
    int rc = -1;
    agg_csv_init(csv, in);

    int r = agg_csv_next(csv, why, sizeof why);
    if (r < 0) {
        snprintf(errstr, errstr_size, "%s:%ld: %s", name, csv->line, why);
        goto out;
    }
    if (r == 0) {
        snprintf(errstr, errstr_size,
                 "%s: empty file (expected a header with a \"code\" column)", name);
        goto out;
    }
    for (size_t i = 0; i < csv->nfields; i++) {
        if (strcmp(csv->field[i], "code") == 0) {
            code_col = (long)i;
            break;
        }
    }
    if (code_col < 0) {
        snprintf(errstr, errstr_size, "%s:%ld: no \"code\" column in the header", name,
                 csv->line);
        goto out;
    }

    while ((r = agg_csv_next(csv, why, sizeof why)) != 0) {
        if (r < 0) {
            snprintf(errstr, errstr_size, "%s:%ld: %s", name, csv->line, why);
            goto out;
        }
        if ((size_t)code_col >= csv->nfields) {
            snprintf(errstr, errstr_size, "%s:%ld: no value in the \"code\" column", name,
                     csv->line);
            goto out;
        }
        const char *code = csv->field[code_col];
        size_t len = csv->field_len[code_col];
        if (agg_check_region(code, len, why, sizeof why)) {
            snprintf(errstr, errstr_size, "%s:%ld: code %s", name, csv->line, why);
            goto out;
        }
        for (size_t i = 0; i < regions->count; i++) {
            if (strcmp(regions->code[i], code) == 0) {
                snprintf(errstr, errstr_size,
                         "%s:%ld: duplicate code \"%s\" (first on line %ld)", name,
                         csv->line, code, first_line[i]);
                goto out;
            }
        }
        if (regions->count >= AGG_REGIONS_MAX) {
            snprintf(errstr, errstr_size, "%s:%ld: more than %d regions", name, csv->line,
                     AGG_REGIONS_MAX);
            goto out;
        }
        /* agg_check_region bounded len to AGG_REGION_MAX, which fits code[]. */
        memcpy(regions->code[regions->count], code, len + 1);
        first_line[regions->count] = csv->line;
        regions->count++;
    }
    if (regions->count == 0) {
        snprintf(errstr, errstr_size, "%s: no regions after the header", name);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        regions->count = 0;
    free(csv);
    return rc;
}

int agg_regions_load(agg_regions_t *regions, const char *path, char *errstr,
                     size_t errstr_size) {
    regions->count = 0;
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = load_stream(regions, in, path, errstr, errstr_size);
    if (fclose(in) != 0 && rc == 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        regions->count = 0;
        rc = -1;
    }
    return rc;
}

int agg_regions_load_text(agg_regions_t *regions, const char *text, const char *name,
                          char *errstr, size_t errstr_size) {
    regions->count = 0;
    size_t len = strlen(text);
    if (len == 0) {
        snprintf(errstr, errstr_size,
                 "%s: empty file (expected a header with a \"code\" column)", name);
        return -1;
    }
    /* fmemopen in "r" mode never writes to the buffer; the cast only satisfies its
     * prototype. */
    FILE *in = fmemopen((void *)text, len, "r");
    if (!in) {
        snprintf(errstr, errstr_size, "%s: fmemopen: %s", name, strerror(errno));
        return -1;
    }
    int rc = load_stream(regions, in, name, errstr, errstr_size);
    fclose(in); /* a read-only memory stream has nothing to flush */
    return rc;
}

int agg_regions_load_default(agg_regions_t *regions, char *errstr, size_t errstr_size) {
    return agg_regions_load_text(regions, agg_default_regions_csv, "reference/regions.csv",
                                 errstr, errstr_size);
}

bool agg_regions_contains(const agg_regions_t *regions, const char *code, size_t len) {
    if (len > AGG_REGION_MAX)
        return false;
    for (size_t i = 0; i < regions->count; i++)
        if (strlen(regions->code[i]) == len && memcmp(regions->code[i], code, len) == 0)
            return true;
    return false;
}
