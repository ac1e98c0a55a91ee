/* The reference list of reporting regions (reference/regions.csv). */
#ifndef AGG_REGIONS_H
#define AGG_REGIONS_H

#include <stdbool.h>
#include <stddef.h>

#define AGG_REGIONS_MAX 256

typedef struct agg_regions {
    size_t count;
    char code[AGG_REGIONS_MAX][33];
} agg_regions_t;

/* Loads the "code" column of a CSV file with a header. Returns 0, or -1 with
 * "path:line: reason" in errstr. */
int agg_regions_load(agg_regions_t *regions, const char *path, char *errstr,
                     size_t errstr_size);
/* The same from CSV text in memory; name is used in error messages. */
int agg_regions_load_text(agg_regions_t *regions, const char *text, const char *name,
                          char *errstr, size_t errstr_size);
/* The reference list compiled into the binaries from reference/regions.csv. */
int agg_regions_load_default(agg_regions_t *regions, char *errstr, size_t errstr_size);
extern const char agg_default_regions_csv[];

bool agg_regions_contains(const agg_regions_t *regions, const char *code, size_t len);

#endif
