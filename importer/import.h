/* agg-import internals past the readers: column mapping (columns.c), document context
 * (context.c), objective headings (heading.c), plan quarters (quarters.c), units
 * (units.c), the interpreter that turns the table model into rows (convert.c), the
 * review report and its notes (report.c) and the output (output.c). */
#ifndef IMP_IMPORT_H
#define IMP_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agg/record.h"
#include "table.h"

/* ---- columns.c: what a header cell means (DOMAIN.md) ---------------------------- */

typedef enum {
    IMP_COL_NONE = 0,   /* not recognised */
    IMP_COL_NUM,        /* Д/д */
    IMP_COL_GOAL,       /* Зорилт */
    IMP_COL_MEASURE,    /* Арга хэмжээ, үйл ажиллагаа */
    IMP_COL_MEASURE2,   /* a second measure column (kept only for the title) */
    IMP_COL_CRITERION,  /* Шалгуур үзүүлэлт */
    IMP_COL_BASELINE,   /* Суурь түвшин */
    IMP_COL_TARGET,     /* Хүрэх / Зорилтот түвшин */
    IMP_COL_ACHIEVED,   /* Хүрсэн түвшин, Биелэлт */
    IMP_COL_COMPLETION, /* Биелэлтийн хувь */
    IMP_COL_PERIOD,     /* Хугацаа, I-IV улирал, Эхлэх хугацаа */
    IMP_COL_PERIOD_END, /* Дуусах хугацаа */
    IMP_COL_GROUP,      /* Гүйцэтгэлийн түвшин: a parent over level columns */
    IMP_COL_IGNORED,    /* Төсөв, Хариуцах нэгж, Тайлбар: known, not part of a record */
    IMP_COL_UNIT,       /* Хэмжих нэгж: the unit (and scale) the levels are written in */
    IMP_COL__COUNT
} imp_col_t;

const char *imp_col_name(imp_col_t k);
/* Classifies one header cell (cleaned text). */
imp_col_t imp_header_kind(const char *text);

typedef struct {
    int ncols;
    imp_col_t kind[IMP_CELLS_MAX];
    int col_of[IMP_COL__COUNT]; /* grid column of each kind, -1 = none */
    /* sub-columns of a period or level group named by quarter ("I", "II улирал"):
     * quarter_col[q] is the column of quarter q (1-4), -1 = none */
    int quarter_col[5];
    char label[IMP_CELLS_MAX][96]; /* header text as found, for the report */
} imp_colmap_t;

/* Whether a row (grid texts) looks like a header: min_known recognised cells (two for
 * the first table; three inside a table, where prose rows abound), one of them a
 * number, criterion, measure or level column, none starting in lower case. */
bool imp_is_header_row(char *const *text, int ncols, int min_known);
/* A numbering row "1 2 3 ...": consecutive integers from 1, at least three. */
bool imp_is_numbering_row(char *const *text, int ncols);
/* Builds the map from the header row h1 and an optional second header row h2 (NULL):
 * a cell of h2 names its column; an empty h2 cell keeps the h1 header above it (which,
 * in text without spans, also covers the empty h1 cells to its right). When one level
 * column spans several sub-columns, the last one (the level at the end of the period)
 * is used. Writes one note per decision into notes (may be empty). Returns 0, or -1
 * with errstr listing the headers found when no number/measure or no value column is
 * recognised. */
int imp_colmap_build(imp_colmap_t *m, char *const *h1, char *const *h2, int ncols,
                     char *notes, size_t notes_size, char *errstr, size_t errstr_size);

/* ---- heading.c: objective headings ------------------------------------------- */

/* Levels: 0 strategic goal (Стратегийн төлөвлөгөөний зорилго N), 1 objective or
 * numbered section (Зорилт 6, Нэг., ХОЁР.), 2 sub-objective (Зорилт 6.1). Returns
 * true with *level and the objective code when text starts like a heading. */
bool imp_heading_parse(const char *text, int *level, char *code, size_t codesz);

/* ---- context.c: region, year, period, plan or report --------------------------- */

typedef enum { IMP_KIND_UNKNOWN = 0, IMP_KIND_REPORT, IMP_KIND_PLAN } imp_kind_t;

typedef struct {
    size_t count;
    struct {
        char code[AGG_REGION_MAX + 1];
        char name[96];   /* folded Mongolian name */
        bool district;   /* capital district (дүүрэг), else aimag */
    } r[64];
} imp_region_names_t;

/* Loads code,name_mn,kind from regions CSV text (reference/regions.csv format). */
int imp_region_names_load(imp_region_names_t *rn, const char *csv_text, char *errstr,
                          size_t errstr_size);

typedef struct {
    char region[AGG_REGION_MAX + 1];
    int year, quarter;
    imp_kind_t kind;
    /* what each came from, for the report ("title line 7: БАГАХАНГАЙ ДҮҮРГИЙН") */
    char region_src[200], year_src[200], quarter_src[200], kind_src[200];
    char region_err[300], year_err[300], quarter_err[300], kind_err[200];
} imp_context_t;

/* One line of the title block (text before the first table header). */
typedef struct {
    const char *text;
    char where[48];
} imp_title_line_t;

/* Finds what the title says (SPEC 11 rules). Fields not found are 0/"" with the reason
 * in *_err; the caller applies flags and reports what is still missing. */
void imp_context_find(imp_context_t *c, const imp_title_line_t *lines, size_t n,
                      const imp_region_names_t *rn);

/* ---- quarters.c: the quarters a plan row names ------------------------------------ */

/* From the period cell (start) and a period-end cell (end, may be ""); out gets "1-4",
 * "2,4" ... Returns false when the text names no quarters. */
bool imp_quarters_parse(const char *start, const char *end, char *out, size_t outsz);

/* ---- units.c ------------------------------------------------------------------------ */

struct imp_value; /* value.h */
/* The unit of a row whose nv levels v are numbers, empty or "-"; label is its criterion
 * (or measure) text. *mixed when a percent and an amount meet (the row is then text). */
agg_unit_t imp_unit_infer(const struct imp_value *v, int nv, const char *label, bool *mixed);

/* ---- convert.c: table model -> rows ---------------------------------------------- */

typedef enum { IMP_GOALS_AUTO = 0, IMP_GOALS_HEADING, IMP_GOALS_NUMBER } imp_goal_rule_t;

typedef struct {
    imp_goal_rule_t goal_rule;
    int goal_depth; /* groups of the measure number that form the goal (default 1) */
} imp_convert_opts_t;

typedef struct {
    char goal[AGG_GOAL_MAX + 1];
    char indicator[AGG_INDICATOR_MAX + 1];
    char *title; /* owned */
    agg_unit_t unit;
    bool has_baseline, has_target, has_achieved, has_completion;
    int64_t baseline_x100, target_x100, achieved_x100;
    int32_t completion_x100;
    char quarters[32]; /* plan: "1-4", "2,4"; "" = not given */
    char where[48];
} imp_out_row_t;

typedef enum {
    IMP_NOTE_ROW = 0, /* a row was produced */
    IMP_NOTE_SKIP,    /* a row that could not be read (counts for the exit status) */
    IMP_NOTE_INFO,    /* a decision: heading, header, continuation, rule applied */
    IMP_NOTE_ERROR,   /* a document-level problem (context, columns) */
} imp_note_kind_t;

typedef struct {
    imp_note_kind_t kind;
    char where[48];
    char *msg;  /* owned */
    size_t key; /* source order: block index + 1 of the row it is about, 0 = document */
    size_t seq; /* order of writing, to keep notes of one place in order */
    /* IMP_NOTE_ROW: what the row became, for --json readers */
    char goal[AGG_GOAL_MAX + 1], indicator[AGG_INDICATOR_MAX + 1];
} imp_note_t;

typedef struct {
    imp_out_row_t *row;
    size_t nrows, rows_cap;
    imp_note_t *note;
    size_t nnotes, notes_cap;
    size_t skipped;           /* IMP_NOTE_SKIP notes */
    size_t note_key;          /* key given to the next note (imp_note_t.key) */
    imp_title_line_t *title;  /* title block, pointing into the document */
    size_t ntitle, title_cap;
    char title_buf[8][512];   /* joined cells of title rows */
    size_t ntitle_buf;
    bool saw_achieved;        /* a report column (achieved/completion) was found */
    bool saw_table;
} imp_result_t;

/* Adds a note (printf format). Returns 0 or -1 on out of memory. */
int imp_note(imp_result_t *res, imp_note_kind_t kind, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Interprets doc into res. Returns 0, or -1 on out of memory (errstr). Every row that
 * could not be read is an IMP_NOTE_SKIP note naming its position and reason. */
int imp_convert(const imp_doc_t *doc, const imp_convert_opts_t *o, imp_result_t *res,
                char *errstr, size_t errstr_size);
void imp_result_free(imp_result_t *res);

/* ---- output.c: canonical CSV and plan CSV ------------------------------------------ */

struct agg_regions;
/* Checks every row with the producer's record rules (lib/record.c, the reference
 * region list when regions is not NULL), so that what is written is what agg-produce
 * accepts; a row that fails becomes an IMP_NOTE_SKIP and is dropped. -1 on out of
 * memory. */
int imp_validate_rows(imp_result_t *res, const imp_context_t *c,
                      const struct agg_regions *regions, const char *report_id);
int imp_write_csv(FILE *out, const imp_result_t *res, const imp_context_t *c,
                  const char *report_id);
int imp_write_plan_csv(FILE *out, const imp_result_t *res, const imp_context_t *c);

/* ---- report.c: the review report ------------------------------------------------ */

/* Puts the notes in document order (rows are decided one row late: a row is complete
 * only when the next one starts), keeping the order of notes about one place. */
void imp_report_sort(imp_result_t *res);
/* Text: "FILE: WHERE: message" per note. JSON: one object per line. */
int imp_report_write(FILE *out, const char *file, const imp_result_t *res, bool json);

#endif
