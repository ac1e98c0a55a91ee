/* CSV report files -> validated records (SPEC section 3).
 *
 * Every problem is reported, not only the first: a district office fixes its file in
 * one pass. Messages are "FILE:LINE: column 'NAME' (N): reason" with N the 1-based
 * column of the header, like a compiler's, so editors can jump to them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/csv.h"
#include "agg/hash.h"
#include "agg/period.h"
#include "produce.h"

enum {
    C_REGION,
    C_YEAR,
    C_QUARTER,
    C_GOAL,
    C_INDICATOR,
    C_TITLE,
    C_UNIT,
    C_BASELINE,
    C_TARGET,
    C_ACHIEVED,
    C_COMPLETION,
    C_REVISION,
    C_SUBMITTED_AT,
    C_REPORT_ID,
    C__COUNT
};

static const struct {
    const char *name;
    bool required;
} columns[C__COUNT] = {
    [C_REGION] = {"region", true},
    [C_YEAR] = {"year", true},
    [C_QUARTER] = {"quarter", true},
    [C_GOAL] = {"goal", true},
    [C_INDICATOR] = {"indicator", true},
    [C_TITLE] = {"title", false},
    [C_UNIT] = {"unit", false},
    [C_BASELINE] = {"baseline", false},
    [C_TARGET] = {"target", false},
    [C_ACHIEVED] = {"achieved", false},
    [C_COMPLETION] = {"completion", false},
    [C_REVISION] = {"revision", false},
    [C_SUBMITTED_AT] = {"submitted_at", false},
    [C_REPORT_ID] = {"report_id", false},
};

static void report(const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const char *file, long line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (line > 0)
        fprintf(stderr, "%s:%ld: ", file, line);
    else
        fprintf(stderr, "%s: ", file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void col_report(const char *file, long line, size_t field, int col, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));
static void col_report(const char *file, long line, size_t field, int col, const char *fmt,
                       ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%ld: column '%s' (%zu): ", file, line, columns[col].name,
            field + 1);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- duplicate detection ------------------------------------------------------- */

/* Identity plus revision: the same revision of one indicator twice in a run is an
 * error (which one is meant?); a higher revision is a correction and is allowed. */
static uint64_t row_hash(const agg_record_t *r) {
    /* Each NUL is hashed too: it separates the region from the indicator. */
    uint64_t h = agg_fnv1a(AGG_FNV1A_INIT, r->region, strlen(r->region) + 1);
    h = agg_fnv1a(h, r->indicator, strlen(r->indicator) + 1);
    uint64_t nums[3] = {(uint64_t)r->year, (uint64_t)r->quarter, (uint64_t)r->revision};
    for (int i = 0; i < 3; i++)
        h = (h ^ nums[i]) * 1099511628211ULL;
    return h;
}

static bool same_key(const agg_record_t *a, const agg_record_t *b) {
    return a->year == b->year && a->quarter == b->quarter && a->revision == b->revision &&
           strcmp(a->region, b->region) == 0 && strcmp(a->indicator, b->indicator) == 0;
}

/* The slot holding a row with r's key, or the empty slot where it would go. */
static size_t *dup_slot(const prod_rows_t *rows, const agg_record_t *r) {
    size_t mask = rows->nslots - 1;
    for (size_t i = (size_t)row_hash(r) & mask;; i = (i + 1) & mask) {
        size_t *s = &rows->slot[i];
        if (*s == 0 || same_key(&rows->row[*s - 1].rec, r))
            return s;
    }
}

/* Keeps the set at most half full so probes stay short. Returns 0 or -1 (no memory). */
static int dup_reserve(prod_rows_t *rows) {
    if ((rows->count + 1) * 2 <= rows->nslots)
        return 0;
    size_t n = rows->nslots ? rows->nslots * 2 : 256;
    size_t *slot = calloc(n, sizeof *slot);
    if (slot == NULL)
        return -1;
    free(rows->slot);
    rows->slot = slot;
    rows->nslots = n;
    for (size_t i = 0; i < rows->count; i++)
        *dup_slot(rows, &rows->row[i].rec) = i + 1;
    return 0;
}

/* ---- rows ---------------------------------------------------------------------- */

static int topic_index(prod_rows_t *rows, const char *prefix, int year, int quarter,
                       size_t *out) {
    char q[16];
    if (agg_quarter_format(year, quarter, q, sizeof q) != 0)
        return -1;
    char name[sizeof rows->topic[0].name];
    int n = snprintf(name, sizeof name, "%s%s", prefix, q);
    if (n < 0 || (size_t)n >= sizeof name)
        return -1;
    for (size_t i = 0; i < rows->ntopics; i++) {
        if (strcmp(rows->topic[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    }
    if (rows->ntopics == rows->topics_cap) {
        size_t cap = rows->topics_cap ? rows->topics_cap * 2 : 4;
        prod_topic_t *t = realloc(rows->topic, cap * sizeof *t);
        if (t == NULL)
            return -1;
        rows->topic = t;
        rows->topics_cap = cap;
    }
    prod_topic_t *t = &rows->topic[rows->ntopics];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, (size_t)n + 1);
    *out = rows->ntopics++;
    return 0;
}

/* Appends a validated record; its title/report_id are copied (the CSV buffer is
 * reused for the next row). Returns 0 or -1 (no memory). */
static int rows_append(prod_rows_t *rows, const agg_record_t *r, const char *file,
                       long line, size_t topic) {
    if (dup_reserve(rows) != 0)
        return -1;
    if (rows->count == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 64;
        prod_row_t *p = realloc(rows->row, cap * sizeof *p);
        if (p == NULL)
            return -1;
        rows->row = p;
        rows->cap = cap;
    }
    prod_row_t *row = &rows->row[rows->count];
    memset(row, 0, sizeof *row);
    row->rec = *r;
    row->rec.title = row->rec.report_id = NULL;
    if (r->title != NULL || r->report_id != NULL) {
        size_t need =
            (r->title ? r->title_len + 1 : 0) + (r->report_id ? r->report_id_len + 1 : 0);
        row->text = malloc(need);
        if (row->text == NULL)
            return -1;
        char *p = row->text;
        if (r->title != NULL) {
            memcpy(p, r->title, r->title_len);
            p[r->title_len] = '\0';
            row->rec.title = p;
            p += r->title_len + 1;
        }
        if (r->report_id != NULL) {
            memcpy(p, r->report_id, r->report_id_len);
            p[r->report_id_len] = '\0';
            row->rec.report_id = p;
        }
    }
    row->msg.file = file;
    row->msg.line = line;
    row->msg.topic = topic;
    row->msg.partition = -1;
    row->msg.state = PROD_MSG_PENDING;
    *dup_slot(rows, &row->rec) = rows->count + 1;
    rows->count++;
    rows->topic[topic].rows++;
    return 0;
}

/* Fills r from one CSV row. Returns the number of problems reported (0 = valid). */
static int parse_row(const agg_csv_t *csv, const int *kind, const char *file,
                     const prod_read_opts_t *o, agg_record_t *r) {
    char err[256];
    int problems = 0;
    long line = csv->line;

    memset(r, 0, sizeof *r);
    r->unit = AGG_UNIT_COUNT;
    r->revision = 1;
    r->submitted_ms = o->default_submitted_ms;

    for (size_t f = 0; f < csv->nfields; f++) {
        int c = kind[f];
        const char *s = csv->field[f];
        size_t len = csv->field_len[f];
        long v;
        if (len == 0) {
            /* Empty = absent; unit and revision keep their defaults. */
            if (columns[c].required) {
                col_report(file, line, f, c, "required");
                problems++;
            }
            continue;
        }
        int rc = 0;
        switch (c) {
        case C_REGION:
            rc = agg_check_region(s, len, err, sizeof err);
            if (rc == 0 && o->regions && !agg_regions_contains(o->regions, s, len)) {
                snprintf(
                    err, sizeof err,
                    "unknown region \"%.*s\" (not in the reference list; see --regions, "
                    "--no-region-check)",
                    (int)len, s);
                rc = -1;
            }
            if (rc == 0)
                memcpy(r->region, s, len + 1);
            break;
        case C_GOAL:
            rc = agg_check_goal(s, len, err, sizeof err);
            if (rc == 0)
                memcpy(r->goal, s, len + 1);
            break;
        case C_INDICATOR:
            rc = agg_check_indicator(s, len, err, sizeof err);
            if (rc == 0)
                memcpy(r->indicator, s, len + 1);
            break;
        case C_YEAR:
            rc = agg_parse_int_range(s, len, AGG_YEAR_MIN, AGG_YEAR_MAX, &v, err,
                                     sizeof err);
            r->year = (int)v;
            break;
        case C_QUARTER:
            rc = agg_parse_int_range(s, len, 1, 4, &v, err, sizeof err);
            r->quarter = (int)v;
            break;
        case C_TITLE:
            rc = agg_check_text(s, len, AGG_TITLE_MAX, err, sizeof err);
            r->title = s;
            r->title_len = len;
            break;
        case C_UNIT:
            if (agg_unit_parse(s, len, &r->unit) != 0) {
                snprintf(err, sizeof err,
                         "unknown unit \"%.*s\" (count, person, mnt, pct or text)",
                         len > 32 ? 32 : (int)len, s);
                rc = -1;
            }
            break;
        case C_BASELINE:
            rc = agg_parse_decimal_x100(s, len, &r->baseline_x100, err, sizeof err);
            r->has_baseline = true;
            break;
        case C_TARGET:
            rc = agg_parse_decimal_x100(s, len, &r->target_x100, err, sizeof err);
            r->has_target = true;
            break;
        case C_ACHIEVED:
            rc = agg_parse_decimal_x100(s, len, &r->achieved_x100, err, sizeof err);
            r->has_achieved = true;
            break;
        case C_COMPLETION:
            rc = agg_parse_completion_x100(s, len, &r->completion_x100, err, sizeof err);
            r->has_completion = true;
            break;
        case C_REVISION:
            rc = agg_parse_int_range(s, len, 1, AGG_REVISION_MAX, &v, err, sizeof err);
            r->revision = (int32_t)v;
            break;
        case C_SUBMITTED_AT:
            rc = agg_parse_rfc3339_ms(s, len, &r->submitted_ms, err, sizeof err);
            break;
        case C_REPORT_ID:
            rc = agg_check_text(s, len, AGG_REPORT_ID_MAX, err, sizeof err);
            r->report_id = s;
            r->report_id_len = len;
            break;
        }
        if (rc != 0) {
            col_report(file, line, f, c, "%s", err);
            problems++;
        }
    }
    if (problems)
        return problems;

    /* The worker applies the same rules to what it consumes; checking here too means
     * the producer never sends a row the worker would dead-letter. */
    const char *field = NULL;
    if (agg_record_validate(r, o->regions, &field, err, sizeof err) != 0) {
        int c = -1;
        for (int i = 0; field && i < C__COUNT; i++)
            if (strcmp(columns[i].name, field) == 0)
                c = i;
        size_t f = 0;
        while (c >= 0 && f < csv->nfields && kind[f] != c)
            f++;
        if (c >= 0 && f < csv->nfields)
            col_report(file, line, f, c, "%s", err);
        else
            report(file, line, "%s: %s", field ? field : "record", err);
        return 1;
    }
    return 0;
}

/* Maps header names to columns. Returns 0, or -1 after reporting every problem. */
static int parse_header(const agg_csv_t *csv, const char *file, int *kind) {
    int problems = 0;
    int seen[C__COUNT];
    for (int c = 0; c < C__COUNT; c++)
        seen[c] = -1;

    for (size_t f = 0; f < csv->nfields; f++) {
        const char *name = csv->field[f];
        size_t len = csv->field_len[f];
        /* Spreadsheets save "UTF-8 CSV" with a byte-order mark; it is not part of the
         * first column's name. */
        if (f == 0 && len >= 3 && memcmp(name, "\xEF\xBB\xBF", 3) == 0) {
            name += 3;
            len -= 3;
        }
        kind[f] = -1;
        for (int c = 0; c < C__COUNT; c++) {
            if (strlen(columns[c].name) == len && memcmp(columns[c].name, name, len) == 0)
                kind[f] = c;
        }
        if (kind[f] < 0) {
            fprintf(stderr,
                    "%s:%ld: column '%.*s' (%zu): unknown column (expected region, year, "
                    "quarter, goal, indicator, title, unit, baseline, target, achieved, "
                    "completion, revision, submitted_at, report_id)\n",
                    file, csv->line, len > 64 ? 64 : (int)len, name, f + 1);
            problems++;
        } else if (seen[kind[f]] >= 0) {
            fprintf(stderr,
                    "%s:%ld: column '%s' (%zu): duplicate column (also column %d)\n", file,
                    csv->line, columns[kind[f]].name, f + 1, seen[kind[f]] + 1);
            problems++;
        } else {
            seen[kind[f]] = (int)f;
        }
    }
    for (int c = 0; c < C__COUNT; c++) {
        if (columns[c].required && seen[c] < 0) {
            report(file, csv->line, "missing required column '%s'", columns[c].name);
            problems++;
        }
    }
    return problems ? -1 : 0;
}

static bool blank_row(const agg_csv_t *csv) {
    return csv->nfields == 0 || (csv->nfields == 1 && csv->field_len[0] == 0);
}

int prod_rows_read(prod_rows_t *rows, const char *path, const prod_read_opts_t *o) {
    bool is_stdin = strcmp(path, "-") == 0;
    const char *file = is_stdin ? "<stdin>" : path;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (in == NULL) {
        report(file, 0, "cannot open: %s", strerror(errno));
        rows->file_errors++;
        return 0;
    }
    int ret = prod_rows_read_stream(rows, in, file, o);
    if (!is_stdin)
        fclose(in);
    return ret;
}

int prod_rows_read_stream(prod_rows_t *rows, FILE *in, const char *file,
                          const prod_read_opts_t *o) {
    /* 64 KiB row buffer: too big for the stack of a CLI helper. */
    agg_csv_t *csv = malloc(sizeof *csv);
    if (csv == NULL)
        return -1;
    agg_csv_init(csv, in);

    int ret = 0;
    char err[256];
    int kind[AGG_CSV_FIELDS_MAX];
    size_t header_fields = 0;
    int rc = agg_csv_next(csv, err, sizeof err);
    if (rc == 0) {
        report(file, 0, "empty file (a header row is required)");
        rows->file_errors++;
        goto out;
    }
    if (rc < 0) {
        report(file, csv->line, "header: %s", err);
        rows->file_errors++;
        goto out;
    }
    header_fields = csv->nfields;
    if (parse_header(csv, file, kind) != 0) {
        /* Without a trustworthy header no row can be read: the file counts as one
         * error, its rows are not parsed (they would only repeat the problem). */
        rows->file_errors++;
        goto out;
    }

    while ((rc = agg_csv_next(csv, err, sizeof err)) != 0) {
        if (rc < 0) {
            size_t ef = csv->error_field;
            if (ef >= 1 && ef <= header_fields && kind[ef - 1] >= 0)
                report(file, csv->line, "column '%s' (%zu): %s", columns[kind[ef - 1]].name,
                       ef, err);
            else
                report(file, csv->line, "%s", err);
            rows->invalid_rows++;
            continue;
        }
        if (blank_row(csv))
            continue;
        if (csv->nfields != header_fields) {
            report(file, csv->line, "row has %zu fields, header has %zu", csv->nfields,
                   header_fields);
            rows->invalid_rows++;
            continue;
        }
        agg_record_t r;
        if (parse_row(csv, kind, file, o, &r) != 0) {
            rows->invalid_rows++;
            continue;
        }
        if (dup_reserve(rows) != 0) {
            ret = -1;
            goto out;
        }
        size_t *slot = dup_slot(rows, &r);
        if (*slot != 0) {
            const prod_msg_t *other = &rows->row[*slot - 1].msg;
            size_t f = 0;
            while (f < csv->nfields && kind[f] != C_INDICATOR)
                f++;
            char q[AGG_QUARTER_ID_LEN + 1];
            if (agg_quarter_format(r.year, r.quarter, q, sizeof q) != 0)
                q[0] = '\0';
            col_report(file, csv->line, f, C_INDICATOR,
                       "duplicate indicator \"%s\" for %s %s revision %d (also on %s:%ld)",
                       r.indicator, r.region, q, (int)r.revision, other->file, other->line);
            rows->invalid_rows++;
            continue;
        }
        size_t topic;
        if (topic_index(rows, o->topic_prefix, r.year, r.quarter, &topic) != 0) {
            /* the prefix length is checked at startup, so only memory can fail here */
            ret = -1;
            goto out;
        }
        if (rows_append(rows, &r, file, csv->line, topic) != 0) {
            ret = -1;
            goto out;
        }
    }
    if (ferror(in)) {
        report(file, 0, "read error: %s", strerror(errno));
        rows->file_errors++;
    }
out:
    free(csv);
    return ret;
}

void prod_rows_free(prod_rows_t *rows) {
    for (size_t i = 0; i < rows->count; i++)
        free(rows->row[i].text);
    free(rows->row);
    free(rows->topic);
    free(rows->slot);
    memset(rows, 0, sizeof *rows);
}

void prod_msg_where(const prod_msg_t *m, const prod_topic_t *topics, char *buf,
                    size_t bufsz) {
    if (m->file != NULL)
        snprintf(buf, bufsz, "%s:%ld", m->file, m->line);
    else
        snprintf(buf, bufsz, "%s [%d]", topics[m->topic].name, (int)m->partition);
}
