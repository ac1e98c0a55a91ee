/* RFC 4180 reader with bounded memory: one logical row at a time into the reader's
 * fixed buffer. Errors name the physical line where the row starts, and after a
 * malformed row the reader resumes at the next physical line so that one bad row does
 * not hide the errors (or the good rows) after it. */
#include "agg/csv.h"
#include "agg/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* Byte source for one call: the UTF-8 BOM check at the start of the input may read
 * up to three bytes that turn out to be data, and ungetc() only promises one byte of
 * pushback, so those bytes are replayed from here first. They are always consumed
 * within the same call, before anything is pushed back with ungetc(). */
typedef struct {
    FILE *in;
    int pend[3];
    int npend, ipend;
} src_t;

static int src_get(src_t *s) {
    if (s->ipend < s->npend)
        return s->pend[s->ipend++];
    return getc(s->in);
}

/* Only ever called for a byte just read from the file, never a replayed one. */
static void src_unget(src_t *s, int c) {
    if (c != EOF)
        ungetc(c, s->in);
}

static void src_skip_bom(src_t *s) {
    int c1 = getc(s->in);
    if (c1 != 0xEF) {
        if (c1 != EOF)
            s->pend[s->npend++] = c1;
        return;
    }
    int c2 = getc(s->in);
    if (c2 == 0xBB) {
        int c3 = getc(s->in);
        if (c3 == 0xBF)
            return;
        s->pend[s->npend++] = c1;
        s->pend[s->npend++] = c2;
        if (c3 != EOF)
            s->pend[s->npend++] = c3;
        return;
    }
    s->pend[s->npend++] = c1;
    if (c2 != EOF)
        s->pend[s->npend++] = c2;
}

void agg_csv_init(agg_csv_t *csv, FILE *in) {
    csv->in = in;
    /* line 0 marks "nothing read yet", when a BOM may follow. */
    csv->line = 0;
    csv->next_line = 1;
    csv->nfields = 0;
    csv->delim = ',';
}

void agg_csv_set_delimiter(agg_csv_t *csv, char delim) { csv->delim = delim; }

/* After a line-break byte c: "\r\n" is one break, and a bare '\r' (old Mac files) is
 * one too. Returns the '\n' when it was eaten, else -1. */
static int finish_line_break(agg_csv_t *csv, src_t *s, int c) {
    csv->next_line++;
    if (c != '\r')
        return -1;
    int n = src_get(s);
    if (n == '\n')
        return n;
    src_unget(s, n);
    return -1;
}

/* Resynchronizes after a malformed row: drops bytes up to and including the end of
 * the current physical line. */
static void skip_line(agg_csv_t *csv, src_t *s) {
    for (;;) {
        int c = src_get(s);
        if (c == EOF)
            return;
        if (c == '\n' || c == '\r') {
            finish_line_break(csv, s, c);
            return;
        }
    }
}

enum { ST_FIELD_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTED_QUOTE };

typedef struct {
    agg_csv_t *csv;
    size_t used;        /* bytes of buf in use, NULs included */
    size_t field_start; /* offset of the current field in buf */
} row_t;

/* Keeps one byte free after the field for its NUL. */
static bool row_put(row_t *r, int c) {
    if (r->used + 2 > AGG_CSV_ROW_MAX)
        return false;
    r->csv->buf[r->used++] = (char)c;
    return true;
}

typedef enum { FIELD_OK = 0, FIELD_TOO_MANY, FIELD_ROW_TOO_LONG } field_end_t;

/* Empty fields take a NUL each without any row_put(), so room is checked here too. */
static field_end_t row_end_field(row_t *r) {
    agg_csv_t *csv = r->csv;
    if (csv->nfields >= AGG_CSV_FIELDS_MAX)
        return FIELD_TOO_MANY;
    if (r->used >= AGG_CSV_ROW_MAX)
        return FIELD_ROW_TOO_LONG;
    csv->buf[r->used] = '\0';
    csv->field[csv->nfields] = csv->buf + r->field_start;
    csv->field_len[csv->nfields] = r->used - r->field_start;
    csv->nfields++;
    r->used++;
    r->field_start = r->used;
    return FIELD_OK;
}


/* The row's bytes are one buffer (AGG_CSV_ROW_MAX): the field it stopped in is kept so
 * that the caller can name the column. */
static int fail_too_long_in(agg_csv_t *csv, char *errstr, size_t errstr_size) {
    csv->error_field = csv->nfields + 1;
    return agg_fail(errstr, errstr_size, "row longer than %d bytes", AGG_CSV_ROW_MAX - 1);
}
#define fail_too_long(errstr, errstr_size) fail_too_long_in(csv, (errstr), (errstr_size))

static int fail_too_many(char *errstr, size_t errstr_size) {
    return agg_fail(errstr, errstr_size, "more than %d fields", AGG_CSV_FIELDS_MAX);
}

static int fail_field_end(agg_csv_t *csv, field_end_t e, char *errstr, size_t errstr_size) {
    return e == FIELD_TOO_MANY ? fail_too_many(errstr, errstr_size)
                               : fail_too_long(errstr, errstr_size);
}

/* Reads one row, which spans several physical lines when a quoted field holds line
 * breaks. Returns 1, 0 at end of input, -1 on error; *blank is set for an empty line. */
static int read_row(agg_csv_t *csv, src_t *s, bool *blank, char *errstr,
                    size_t errstr_size) {
    row_t r = {.csv = csv};
    csv->error_field = 0;
    int state = ST_FIELD_START;
    bool any = false; /* whether the row has any byte before its line break */
    field_end_t fe = FIELD_OK;
    csv->line = csv->next_line;
    csv->nfields = 0;
    *blank = false;

    for (;;) {
        int c = src_get(s);
        if (c == EOF) {
            if (ferror(csv->in))
                return agg_fail(errstr, errstr_size, "read error: %s", strerror(errno));
            if (!any)
                return 0;
            if (state == ST_QUOTED)
                return agg_fail(errstr, errstr_size,
                            "unterminated quoted field at end of input");
            field_end_t e = row_end_field(&r);
            if (e != FIELD_OK)
                return fail_field_end(csv, e, errstr, errstr_size);
            return 1;
        }
        bool line_break = c == '\n' || c == '\r';

        if (line_break && state != ST_QUOTED) {
            finish_line_break(csv, s, c);
            if (!any) {
                *blank = true;
                return 1;
            }
            /* The break is consumed: no resync needed on this error. */
            field_end_t e = row_end_field(&r);
            if (e != FIELD_OK)
                return fail_field_end(csv, e, errstr, errstr_size);
            return 1;
        }
        any = true;

        switch (state) {
        case ST_FIELD_START:
            if (c == '"') {
                state = ST_QUOTED;
                break;
            }
            /* Any other byte starts an unquoted field. */
            state = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED:
            if (c == csv->delim) {
                if ((fe = row_end_field(&r)) != FIELD_OK)
                    goto field_error;
                state = ST_FIELD_START;
            } else if (c == '"') {
                skip_line(csv, s);
                return agg_fail(errstr, errstr_size, "quote inside an unquoted field");
            } else if (!row_put(&r, c)) {
                goto row_too_long;
            }
            break;
        case ST_QUOTED:
            if (c == '"') {
                state = ST_QUOTED_QUOTE;
                break;
            }
            if (line_break) {
                int lf = finish_line_break(csv, s, c);
                /* Already at the start of the next line: no resync. */
                if (!row_put(&r, c) || (lf != -1 && !row_put(&r, lf)))
                    return fail_too_long(errstr, errstr_size);
            } else if (!row_put(&r, c)) {
                goto row_too_long;
            }
            break;
        case ST_QUOTED_QUOTE:
            if (c == '"') {
                if (!row_put(&r, c))
                    goto row_too_long;
                state = ST_QUOTED;
            } else if (c == csv->delim) {
                if ((fe = row_end_field(&r)) != FIELD_OK)
                    goto field_error;
                state = ST_FIELD_START;
            } else {
                skip_line(csv, s);
                return agg_fail(errstr, errstr_size,
                            "unexpected character after a closing quote");
            }
            break;
        }
    }

row_too_long:
    skip_line(csv, s);
    return fail_too_long(errstr, errstr_size);
field_error:
    skip_line(csv, s);
    return fail_field_end(csv, fe, errstr, errstr_size);
}

int agg_csv_next(agg_csv_t *csv, char *errstr, size_t errstr_size) {
    src_t s = {.in = csv->in};
    if (csv->line == 0)
        src_skip_bom(&s);
    for (;;) {
        bool blank;
        int rc = read_row(csv, &s, &blank, errstr, errstr_size);
        if (rc != 1 || !blank)
            return rc;
    }
}
