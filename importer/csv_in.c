/* CSV with the Mongolian headers (a district's spreadsheet saved as CSV): RFC 4180
 * through the project's own reader (lib/csv.c), every record one table row. A record
 * is a real row, so the document is not loose. Fields are separated by ',' or, as
 * spreadsheets in decimal-comma locales save them, ';'. */
#include "readers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "agg/csv.h"
#include "agg/log.h"

int imp_read_csv(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                 size_t errstr_size) {
    doc->loose = false;
    if (len == 0)
        return 0;
    FILE *in = fmemopen((void *)data, len, "rb");
    if (in == NULL)
        return agg_fail(errstr, errstr_size, "cannot read the input: out of memory");
    agg_csv_t *csv = malloc(sizeof *csv); /* 64 KiB buffer: not on the stack */
    if (csv == NULL) {
        fclose(in);
        return agg_fail(errstr, errstr_size, "out of memory");
    }
    agg_csv_init(csv, in);
    /* A spreadsheet saved in a locale with decimal commas separates fields with ';':
     * the separator is the one of the two more frequent outside quotes in the first
     * 20 lines (a title line before the header has neither). */
    size_t commas = 0, semis = 0, lines = 0;
    bool quoted = false;
    for (size_t i = 0; i < len && lines < 20; i++) {
        if (data[i] == '\n' && !quoted)
            lines++;
        if (data[i] == '"')
            quoted = !quoted;
        else if (!quoted && data[i] == ',')
            commas++;
        else if (!quoted && data[i] == ';')
            semis++;
    }
    if (semis > commas)
        agg_csv_set_delimiter(csv, ';');
    int rc, ret = 0;
    char why[256];
    while ((rc = agg_csv_next(csv, why, sizeof why)) != 0) {
        if (rc < 0) {
            ret = agg_fail(errstr, errstr_size, "line %ld: %s", csv->line, why);
            break;
        }
        imp_block_t *row;
        if (imp_doc_add_row(doc, csv->line, 0, 0, &row, errstr, errstr_size) != 0) {
            ret = -1;
            break;
        }
        for (size_t f = 0; f < csv->nfields && ret == 0; f++)
            if (imp_row_add_cell(row, csv->field[f], csv->field_len[f], (int)f, 1, false,
                                 errstr, errstr_size) != 0)
                ret = -1;
        if (ret != 0)
            break;
    }
    free(csv);
    fclose(in);
    return ret;
}
