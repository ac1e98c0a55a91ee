/* RFC 4180 reader: quoted fields, "" escapes, CRLF or LF, newlines inside quotes.
 * Reads one record (logical row) at a time from a FILE with bounded memory. */
#ifndef AGG_CSV_H
#define AGG_CSV_H

#include <stddef.h>
#include <stdio.h>

#define AGG_CSV_FIELDS_MAX 64
#define AGG_CSV_ROW_MAX (64 * 1024) /* bytes of one row, all fields together */

typedef struct {
    FILE *in;
    long line;       /* line number where the current row starts (1-based) */
    long next_line;  /* line number of the next unread byte */
    char delim;      /* field separator: ',' (RFC 4180), or ';' from a spreadsheet */
    size_t nfields;
    size_t error_field; /* after a malformed row: the field (1-based) it stopped in, or 0 */
    const char *field[AGG_CSV_FIELDS_MAX]; /* NUL-terminated, point into buf */
    size_t field_len[AGG_CSV_FIELDS_MAX];
    char buf[AGG_CSV_ROW_MAX];
} agg_csv_t;

/* The reader does not own in. The separator is ','. */
void agg_csv_init(agg_csv_t *csv, FILE *in);
/* Another field separator (agg-import reads spreadsheets saved with ';'). */
void agg_csv_set_delimiter(agg_csv_t *csv, char delim);

/* Reads the next row. Returns 1 with a row, 0 at end of input, -1 on a malformed row
 * (reason in errstr; the reader skips to the next line so later rows still parse). */
int agg_csv_next(agg_csv_t *csv, char *errstr, size_t errstr_size);

#endif
