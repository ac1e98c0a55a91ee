/* The interpreter: table model -> rows, one decision at a time, each written to the
 * review report. The rules (SPEC 11; docs/ARCHITECTURE.md "Import"):
 *
 *  header    a row with two recognised headers starts a table (columns.c); a second
 *            header row and a numbering row "1 2 3 ..." under it are read with it; the
 *            same header again (a table split over pages) is skipped.
 *  heading   "Зорилт 6.1", "Нэг." ... (heading.c), as a paragraph or as a row whose
 *            first filled cell is the heading, sets the objective until the next
 *            heading of the same or a higher level. A heading row that also carries
 *            numbers is skipped (no measure number to name it).
 *  row       a row whose number cell is a measure number (1.1.1, 1.3.; or "1" with the
 *            measure text starting "1.1 ...", or "Арга хэмжээ 1.2") is a record.
 *  sub-row   a row with an empty number cell whose criterion starts a new sentence
 *            (capital letter) and has a level filled (or, in .docx, whose number cell
 *            is vertically merged) is another indicator of the row above: N#2, N#3.
 *  continued in text copied out of Word (loose), any other line with an empty number
 *            cell, or one starting in lower case, continues the row above cell by cell.
 *  short row in loose text, a row with fewer cells than the header: "1.3 Text" in the
 *            first cell is split into number and measure (the Д/д cell was lost); else
 *            a column empty or "-" in every full row (a dropped column, seed 003's
 *            Төсөв) is taken as the missing one; else cells fill from the left, and a
 *            last cell "I-II улирал 100 %" gives the missing completion.
 *  goal      the heading in force; without one the first group(s) of the measure
 *            number (--goal-from, --goal-depth).
 *  indicator the measure number, unique in the document with #2, #3 ... on repeats.
 *  values    value.c; any level cell that is not one clear quantity makes the row unit
 *            text, all levels then go into the title as written. */
#include "import.h"
#include "text.h"
#include "value.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/hash.h"
#include "agg/log.h"

/* A cell quoted in a message: its first 80 bytes at a character boundary. Four rotating
 * buffers so that one message can quote up to four cells (single-threaded use). */
static const char *ex(const char *s) {
    static char buf[4][96];
    static int k;
    k = (k + 1) % 4;
    return imp_text_excerpt(s, 80, buf[k], sizeof buf[k]);
}

/* ---- grid rows ---------------------------------------------------------------- */

typedef struct {
    char *cell[IMP_CELLS_MAX]; /* owned; NULL = empty */
    bool cont[IMP_CELLS_MAX];  /* docx vMerge continuation */
    int width;                 /* columns present in the source row */
} grid_t;

static void grid_free(grid_t *g) {
    for (int c = 0; c < IMP_CELLS_MAX; c++)
        free(g->cell[c]);
    memset(g, 0, sizeof *g);
}

static const char *gt(const grid_t *g, int col) {
    return col >= 0 && col < IMP_CELLS_MAX && g->cell[col] ? g->cell[col] : "";
}

static int grid_from(grid_t *g, const imp_block_t *b) {
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < b->ncells; i++) {
        const imp_cell_t *c = &b->cell[i];
        if (c->col >= IMP_CELLS_MAX)
            continue;
        if (c->text[0] && (g->cell[c->col] = strdup(c->text)) == NULL)
            return -1;
        g->cont[c->col] = c->vmerge_cont;
        if (c->col + c->span > g->width)
            g->width = c->col + c->span;
    }
    return 0;
}

static bool grid_empty(const grid_t *g) {
    for (int c = 0; c < IMP_CELLS_MAX; c++)
        if (g->cell[c])
            return false;
    return true;
}

/* Appends text to a cell with a space (a continued line of the same cell). */
static int cell_append(char **cell, const char *text) {
    if (text == NULL || text[0] == '\0')
        return 0;
    size_t a = *cell ? strlen(*cell) : 0, n = strlen(text);
    if (a + n + 2 > IMP_CELL_TEXT_MAX)
        return 0; /* the cell is already as long as a cell can be; the rest is dropped */
    char *s = realloc(*cell, a + n + 2);
    if (s == NULL)
        return -1;
    if (a)
        s[a++] = ' ';
    memcpy(s + a, text, n + 1);
    *cell = s;
    return 0;
}

/* ---- the interpreter's state -------------------------------------------------------- */

typedef struct {
    bool active, skipped, subrow;
    grid_t g;
    char base[AGG_INDICATOR_MAX + 1];
    char where[48];
    char parent_quarters[32];
    size_t key; /* note key of the row's first block */
    /* a skipped row whose SKIP note waits for the flush: the numbered row after it may
     * turn out to continue it (its top half above a page break) */
    char skip_reason[160];
} pending_t;

typedef struct {
    char base[AGG_INDICATOR_MAX + 1];
    int n;
} seen_t;

typedef struct {
    const imp_convert_opts_t *o;
    imp_result_t *res;
    bool loose;
    bool have_map, map_bad;
    imp_colmap_t map;
    int dropped_col; /* -1 = none */
    char goal[3][AGG_GOAL_MAX + 1];
    char goal_src[3][64];
    bool goal_set[3];
    pending_t cur;
    /* the objective column (Зорилт), when the table has one: its last filled cell */
    char goal_col[AGG_GOAL_MAX + 1];
    char goal_col_src[48];
    char last_base[AGG_INDICATOR_MAX + 1];
    char last_quarters[32];
    seen_t *seen; /* indicator base -> times seen, for #2 (hash table, n = 0: empty) */
    size_t nseen, seen_cap;
} conv_t;

#define NOTE(cv, kind, where, ...)                                                     \
    do {                                                                               \
        if (imp_note((cv)->res, kind, where, __VA_ARGS__) != 0)                        \
            return -1;                                                                 \
    } while (0)

static int col(const conv_t *cv, imp_col_t k) { return cv->have_map ? cv->map.col_of[k] : -1; }

/* How many times base has been seen, this one included. The open-addressing table is
 * kept at most half full so that a document of many rows stays linear. -1 on out of
 * memory. */
static int seen_next(conv_t *cv, const char *base) {
    if (2 * (cv->nseen + 1) > cv->seen_cap) {
        size_t cap = cv->seen_cap ? cv->seen_cap * 2 : 256;
        void *t = calloc(cap, sizeof *cv->seen);
        if (t == NULL)
            return -1;
        seen_t *old = cv->seen, *nt = t;
        for (size_t i = 0; i < cv->seen_cap; i++) {
            if (old[i].n == 0)
                continue;
            size_t k = agg_fnv1a_str(old[i].base) & (cap - 1);
            while (nt[k].n)
                k = (k + 1) & (cap - 1);
            nt[k] = old[i];
        }
        free(old);
        cv->seen = nt;
        cv->seen_cap = cap;
    }
    size_t k = agg_fnv1a_str(base) & (cv->seen_cap - 1);
    while (cv->seen[k].n) {
        if (strcmp(cv->seen[k].base, base) == 0)
            return ++cv->seen[k].n;
        k = (k + 1) & (cv->seen_cap - 1);
    }
    snprintf(cv->seen[k].base, sizeof cv->seen[k].base, "%s", base);
    cv->seen[k].n = 1;
    cv->nseen++;
    return 1;
}

/* ---- producing a row ------------------------------------------------------------- */

static int title_add(char **title, const char *label, const char *text) {
    char buf[160];
    snprintf(buf, sizeof buf, "| %s:", label);
    if (cell_append(title, buf) != 0 || cell_append(title, text) != 0)
        return -1;
    return 0;
}

static void goal_in_force(const conv_t *cv, const char **goal, const char **src) {
    *goal = NULL;
    *src = NULL;
    for (int l = 2; l >= 1; l--) {
        if (cv->goal_set[l]) {
            *goal = cv->goal[l];
            *src = cv->goal_src[l];
            return;
        }
    }
}

/* The unit column ("Хэмжих нэгж": хувь, тоо, хүн, сая төгрөг) says how the bare numbers
 * of the row are written: its scale multiplies them ("273.1" in "сая төгрөг" is
 * 273 100 000) and its word marks them as percent, money or people. Numbers that carry
 * their own %, scale or currency are left as written. Returns -1 (the row is text, the
 * reason in why) when a scaled number would not be exact or in range. */
static int apply_unit_column(const char *unit, imp_value_t *v, int nv, char *why, size_t whysz) {
    if (unit[0] == '\0')
        return 0;
    char f[128];
    imp_text_fold(unit, strlen(unit), f, sizeof f, false);
    int scale = strstr(f, "тэрбум") ? 9 : strstr(f, "сая") ? 6 : strstr(f, "мянга") ? 3 : 0;
    bool money = strstr(f, "төгрөг") || strstr(f, "₮") || strstr(f, "төг") || scale >= 6;
    bool pct = strstr(f, "хувь") || strchr(f, '%');
    bool person = strstr(f, "хүн") || strstr(f, "иргэн");
    for (int i = 0; i < nv; i++) {
        if (v[i].kind != IMP_VAL_NUMBER || v[i].percent || v[i].scale || v[i].money)
            continue;
        if (scale) {
            int64_t m = scale == 9 ? 1000000000 : scale == 6 ? 1000000 : 1000;
            if (v[i].thousands) {
                /* "9.765" in a тэрбум column: 9 765 or 9.765 billion? */
                snprintf(why, whysz, "a three-digit group with the unit column's scale is "
                                     "ambiguous");
                return -1;
            }
            if (v[i].x100 > AGG_AMOUNT_MAX_X100 / m || v[i].x100 < -AGG_AMOUNT_MAX_X100 / m) {
                snprintf(why, whysz, "a level times the unit column's scale is out of range");
                return -1;
            }
            v[i].x100 *= m;
            v[i].scale = scale;
        }
        v[i].money |= money;
        v[i].percent |= pct && !money;
        v[i].person |= person && !money && !pct;
    }
    return 0;
}

static int emit(conv_t *cv, pending_t *p) {
    const grid_t *g = &p->g;
    imp_result_t *res = cv->res;
    const char *where = p->where;

    /* goal */
    char goal[AGG_GOAL_MAX + 1] = "";
    char goal_why[96];
    const char *hg, *hsrc;
    goal_in_force(cv, &hg, &hsrc);
    if (cv->o->goal_rule != IMP_GOALS_NUMBER && cv->goal_col[0]) {
        snprintf(goal, sizeof goal, "%s", cv->goal_col);
        snprintf(goal_why, sizeof goal_why, "objective column at %s", cv->goal_col_src);
    } else if (cv->o->goal_rule != IMP_GOALS_NUMBER && hg != NULL) {
        snprintf(goal, sizeof goal, "%s", hg);
        snprintf(goal_why, sizeof goal_why, "heading at %s", hsrc);
    } else if (cv->o->goal_rule == IMP_GOALS_HEADING) {
        NOTE(cv, IMP_NOTE_SKIP, where,
             "skipped %s: no objective heading in force (--goal-from heading)", p->base);
        return 0;
    } else {
        int groups = 0;
        size_t k = 0;
        for (; p->base[k]; k++) {
            if (p->base[k] == '.' && ++groups == cv->o->goal_depth)
                break;
        }
        snprintf(goal, sizeof goal, "%.*s", (int)k, p->base);
        snprintf(goal_why, sizeof goal_why, "measure number, %d group%s", cv->o->goal_depth,
                 cv->o->goal_depth == 1 ? "" : "s");
    }
    char why[160];
    if (agg_check_goal(goal, strlen(goal), why, sizeof why) != 0) {
        NOTE(cv, IMP_NOTE_SKIP, where, "skipped %s: objective '%s': %s", p->base, goal, why);
        return 0;
    }

    /* indicator */
    int n = seen_next(cv, p->base);
    if (n < 0)
        return -1;
    char ind[96];
    if (n == 1)
        snprintf(ind, sizeof ind, "%s", p->base);
    else
        snprintf(ind, sizeof ind, "%s#%d", p->base, n);
    if (agg_check_indicator(ind, strlen(ind), why, sizeof why) != 0) {
        NOTE(cv, IMP_NOTE_SKIP, where, "skipped: indicator '%s': %s", ind, why);
        return 0;
    }

    imp_out_row_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.goal, sizeof r.goal, "%s", goal);
    memcpy(r.indicator, ind, strlen(ind) + 1); /* checked: at most AGG_INDICATOR_MAX */
    snprintf(r.where, sizeof r.where, "%s", where);

    /* title: the criterion, else the measure */
    const char *crit = gt(g, col(cv, IMP_COL_CRITERION));
    const char *meas = gt(g, col(cv, IMP_COL_MEASURE));
    if (!meas[0])
        meas = gt(g, col(cv, IMP_COL_MEASURE2));
    const char *label = crit[0] ? crit : meas;
    /* "1.1 Төрийн ...": the number that gave the indicator is not part of the title */
    size_t bl = strlen(p->base);
    if (strncmp(label, p->base, bl) == 0 && label[bl] == ' ')
        label += bl + 1;
    char *title = NULL;
    if (cell_append(&title, label) != 0)
        return -1;

    /* levels */
    imp_col_t kinds[3] = {IMP_COL_BASELINE, IMP_COL_TARGET, IMP_COL_ACHIEVED};
    int nk = 3; /* a plan has no achieved column, so its third level stays empty */
    imp_value_t v[3];
    bool any_text = false;
    char textwhy[200] = "";
    for (int i = 0; i < nk; i++) {
        imp_value_parse(gt(g, col(cv, kinds[i])), &v[i]);
        if (v[i].kind == IMP_VAL_TEXT) {
            if (!any_text)
                snprintf(textwhy, sizeof textwhy, "%s (cell %d) '%s': %s",
                         imp_col_name(kinds[i]), col(cv, kinds[i]) + 1,
                         ex(gt(g, col(cv, kinds[i]))), v[i].why);
            any_text = true;
        }
    }
    bool mixed = false;
    char unit_note[160] = "";
    if (!any_text && apply_unit_column(gt(g, col(cv, IMP_COL_UNIT)), v, nk, unit_note,
                                       sizeof unit_note) != 0) {
        any_text = true;
        snprintf(textwhy, sizeof textwhy, "%s", unit_note);
        unit_note[0] = '\0';
    }
    r.unit = any_text ? AGG_UNIT_TEXT : imp_unit_infer(v, nk, label, &mixed);
    if (mixed)
        snprintf(textwhy, sizeof textwhy, "a percent and an amount in one row");
    if (r.unit == AGG_UNIT_TEXT) {
        for (int i = 0; i < nk; i++) {
            int c = col(cv, kinds[i]);
            if (gt(g, c)[0] && title_add(&title, cv->map.label[c], gt(g, c)) != 0) {
                free(title);
                return -1;
            }
        }
    } else {
        bool *has[3] = {&r.has_baseline, &r.has_target, &r.has_achieved};
        int64_t *val[3] = {&r.baseline_x100, &r.target_x100, &r.achieved_x100};
        for (int i = 0; i < nk; i++) {
            if (v[i].kind == IMP_VAL_NUMBER) {
                *has[i] = true;
                *val[i] = v[i].x100;
            }
        }
    }
    if (title == NULL && cell_append(&title, ind) != 0)
        return -1;
    size_t tl = strlen(title);
    size_t keep = imp_text_utf8_prefix(title, tl, AGG_TITLE_MAX);
    if (keep < tl) {
        title[keep] = '\0';
        if (imp_note(res, IMP_NOTE_INFO, where, "title cut to %d bytes", AGG_TITLE_MAX) != 0) {
            free(title);
            return -1;
        }
    }
    r.title = title;

    /* completion (reports) */
    char comp_note[160] = "";
    int cc = col(cv, IMP_COL_COMPLETION);
    if (cc >= 0 && gt(g, cc)[0]) {
        const char *cwhy, *cnote;
        int crc = imp_completion_parse(gt(g, cc), &r.completion_x100, &cwhy, &cnote);
        if (crc == 1) {
            r.has_completion = true;
            if (cnote)
                snprintf(comp_note, sizeof comp_note, "; completion '%s': %s", ex(gt(g, cc)),
                         cnote);
        } else if (crc < 0) {
            snprintf(comp_note, sizeof comp_note, "; completion (cell %d) '%s' not read: %s",
                     cc + 1, ex(gt(g, cc)), cwhy);
        }
    }

    /* quarters (written to plans only) */
    {
        const char *ps = gt(g, col(cv, IMP_COL_PERIOD)), *pe = gt(g, col(cv, IMP_COL_PERIOD_END));
        /* quarter sub-columns: the quarters whose cell holds a mark or a level */
        char marks[32] = "";
        size_t mo = 0;
        for (int q = 1; q <= 4 && cv->have_map; q++) {
            const char *t = gt(g, cv->map.quarter_col[q]);
            if (cv->map.quarter_col[q] >= 0 && t[0] && strcmp(t, "-") != 0)
                mo += (size_t)snprintf(marks + mo, sizeof marks - mo, "%s%s", mo ? "," : "",
                                       q == 1 ? "I" : q == 2 ? "II" : q == 3 ? "III" : "IV");
        }
        if (mo) {
            char txt[48];
            snprintf(txt, sizeof txt, "%s улирал", marks);
            if (!imp_quarters_parse(txt, "", r.quarters, sizeof r.quarters))
                r.quarters[0] = '\0';
        } else if (!imp_quarters_parse(ps, pe, r.quarters, sizeof r.quarters)) {
            if (p->subrow && !ps[0] && !pe[0])
                snprintf(r.quarters, sizeof r.quarters, "%s", p->parent_quarters);
            else if (ps[0] || pe[0])
                snprintf(comp_note, sizeof comp_note, "; period '%s' names no quarters", ex(ps));
        }
        if (!p->subrow)
            snprintf(cv->last_quarters, sizeof cv->last_quarters, "%s", r.quarters);
    }

    if (imp_grow(&res->row, &res->rows_cap, res->nrows, sizeof *res->row) != 0) {
        free(title);
        return -1;
    }
    res->row[res->nrows++] = r;

    char vals[200] = "";
    if (r.unit != AGG_UNIT_TEXT) {
        size_t o = 0;
        const char *names[3] = {"baseline", "target", "achieved"};
        bool has3[3] = {r.has_baseline, r.has_target, r.has_achieved};
        int64_t v3[3] = {r.baseline_x100, r.target_x100, r.achieved_x100};
        for (int i = 0; i < nk && o < sizeof vals; i++) {
            if (!has3[i])
                continue;
            char num[40];
            if (agg_format_x100(v3[i], num, sizeof num) < 0)
                num[0] = '\0';
            o += (size_t)snprintf(vals + o, sizeof vals - o, ", %s %s", names[i], num);
        }
    }
    char comp[96] = "";
    if (r.has_completion) {
        char num[40];
        if (agg_format_x100(r.completion_x100, num, sizeof num) < 0)
            num[0] = '\0';
        snprintf(comp, sizeof comp, ", completion %s", num);
    }
    if (r.quarters[0])
        snprintf(comp + strlen(comp), sizeof comp - strlen(comp), ", quarters %s", r.quarters);
    imp_note_t *rn = NULL;
    NOTE(cv, IMP_NOTE_ROW, where, "row %s%s: goal %s (%s), unit %s%s%s%s%s%s", r.indicator,
         p->subrow ? " (another indicator of the row above)" : "", r.goal, goal_why,
         agg_unit_name(r.unit), vals, comp, textwhy[0] ? " — text because " : "", textwhy,
         comp_note);
    rn = &res->note[res->nnotes - 1];
    memcpy(rn->goal, r.goal, sizeof rn->goal);
    memcpy(rn->indicator, r.indicator, sizeof rn->indicator);
    return 0;
}

static int flush(conv_t *cv) {
    pending_t *p = &cv->cur;
    int rc = 0;
    size_t key = cv->res->note_key;
    if (p->active)
        cv->res->note_key = p->key; /* its notes sort at the row's place */
    if (p->active && !p->skipped)
        rc = emit(cv, p);
    else if (p->active && p->skip_reason[0])
        rc = imp_note(cv->res, IMP_NOTE_SKIP, p->where, "%s", p->skip_reason);
    cv->res->note_key = key;
    grid_free(&p->g);
    memset(p, 0, sizeof *p);
    return rc;
}

/* Starts a pending row with g (ownership of g's cells passes to it). */
static void start(conv_t *cv, grid_t *g, const char *base, const char *where, bool skipped,
                  bool subrow) {
    pending_t *p = &cv->cur;
    p->active = true;
    p->skipped = skipped;
    p->subrow = subrow;
    p->g = *g;
    memset(g, 0, sizeof *g);
    snprintf(p->base, sizeof p->base, "%s", base);
    snprintf(p->where, sizeof p->where, "%s", where);
    snprintf(p->parent_quarters, sizeof p->parent_quarters, "%s", cv->last_quarters);
    p->key = cv->res->note_key;
    if (!skipped && !subrow)
        snprintf(cv->last_base, sizeof cv->last_base, "%s", base);
}

static int continue_row(conv_t *cv, const grid_t *g) {
    for (int c = 0; c < IMP_CELLS_MAX; c++)
        if (g->cell[c] && cell_append(&cv->cur.g.cell[c], g->cell[c]) != 0)
            return -1;
    return 0;
}

static void apply_heading(conv_t *cv, int level, const char *code, const char *where) {
    for (int l = level; l < 3; l++)
        cv->goal_set[l] = false;
    snprintf(cv->goal[level], sizeof cv->goal[level], "%s", code);
    snprintf(cv->goal_src[level], sizeof cv->goal_src[level], "%s", where);
    cv->goal_set[level] = true;
    cv->last_base[0] = '\0';
}

/* ---- shape of loose rows ---------------------------------------------------------- */

/* A column empty or "-" in every data row that has all columns: the one a text export
 * drops from its short rows (-1 when there is none, or more than one). */
static int find_dropped_col(const conv_t *cv, const imp_doc_t *doc, size_t from) {
    int ncols = cv->map.ncols;
    bool filled[IMP_CELLS_MAX] = {false};
    int full = 0;
    for (size_t i = from; i < doc->count; i++) {
        const imp_block_t *b = &doc->block[i];
        if (b->kind != IMP_ROW || b->sep)
            continue;
        if ((int)b->ncells != ncols)
            continue;
        char *t[IMP_CELLS_MAX] = {0};
        for (size_t c = 0; c < b->ncells && c < IMP_CELLS_MAX; c++)
            t[c] = b->cell[c].text;
        if (imp_is_header_row(t, ncols, 3))
            break;
        char norm[AGG_INDICATOR_MAX + 1];
        if (!imp_measure_number(t[0], strlen(t[0]), norm, sizeof norm))
            continue;
        full++;
        for (int c = 0; c < ncols; c++)
            if (t[c][0] && strcmp(t[c], "-") != 0)
                filled[c] = true;
    }
    if (full < 2)
        return -1;
    int found = -1;
    for (int c = 1; c < ncols; c++) {
        if (filled[c] || cv->map.kind[c] == IMP_COL_NONE)
            continue;
        if (found >= 0)
            return -1;
        found = c;
    }
    return found;
}

/* "1.3 Авлигын ..." -> number length (up to the space), or 0. */
static size_t leading_number(const char *s, char *norm, size_t normsz) {
    size_t n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')
        n++;
    if (n == 0 || s[n] != ' ')
        return 0;
    return imp_measure_number(s, n, norm, normsz) ? n : 0;
}

static int fix_shape(conv_t *cv, grid_t *g, const char *where) {
    int ncols = cv->map.ncols;
    int width = g->width;
    while (width > 0 && g->cell[width - 1] == NULL)
        width--;
    char norm[AGG_INDICATOR_MAX + 1];
    int numc = col(cv, IMP_COL_NUM);
    size_t ln = numc == 0 ? leading_number(gt(g, 0), norm, sizeof norm) : 0;
    if (ln && g->width <= ncols && (g->width < ncols || g->cell[ncols - 1] == NULL)) {
        /* the Д/д cell was lost: split "1.3 Text" and move the cells right by one */
        for (int c = ncols - 1; c > 1; c--) {
            free(g->cell[c]);
            g->cell[c] = g->cell[c - 1];
            g->cell[c - 1] = NULL;
        }
        char *text = strdup(g->cell[0] + ln + 1);
        if (text == NULL)
            return -1;
        free(g->cell[1]);
        g->cell[1] = text;
        g->cell[0][ln] = '\0';
        NOTE(cv, IMP_NOTE_INFO, where,
             "number '%s' split from the measure text (the Д/д cell is missing)", norm);
        return 0;
    }
    if (g->width != ncols - 1 || g->width <= 0)
        return 0;
    /* An unnumbered row, one cell short, ending in a percent where the completion column
     * is: its Д/д cell is the one missing (seed 000 line 25, the top of 3.2.1). */
    int lvl;
    char hc[AGG_GOAL_MAX + 1];
    int32_t cx;
    const char *cwhy, *cnote;
    if (numc == 0 && g->cell[0] && !imp_measure_number(g->cell[0], strlen(g->cell[0]), norm,
                                                       sizeof norm) &&
        !imp_heading_parse(g->cell[0], &lvl, hc, sizeof hc) &&
        col(cv, IMP_COL_COMPLETION) == ncols - 1 && g->cell[ncols - 2] &&
        imp_completion_parse(g->cell[ncols - 2], &cx, &cwhy, &cnote) == 1 && !cnote) {
        for (int c = ncols - 1; c > 0; c--) {
            g->cell[c] = g->cell[c - 1];
            g->cell[c - 1] = NULL;
        }
        NOTE(cv, IMP_NOTE_INFO, where,
             "one cell short and no number: the Д/д cell taken as the missing one");
        return 0;
    }
    if (cv->dropped_col > 0) {
        int d = cv->dropped_col;
        for (int c = ncols - 1; c > d; c--) {
            g->cell[c] = g->cell[c - 1];
            g->cell[c - 1] = NULL;
        }
        return 0;
    }
    /* "I-II улирал 100 %" or "100 % II, улирал": the completion cell merged into the
     * period cell */
    int cc = col(cv, IMP_COL_COMPLETION), pc = col(cv, IMP_COL_PERIOD);
    if (cc == ncols - 1 && pc == ncols - 2 && g->cell[pc] && g->cell[cc] == NULL) {
        char *s = g->cell[pc];
        char *pct = strrchr(s, '%');
        size_t lead = 0;
        while ((s[lead] >= '0' && s[lead] <= '9') || s[lead] == ',' || s[lead] == '.')
            lead++;
        size_t sp = lead;
        while (s[sp] == ' ')
            sp++;
        if (lead && s[sp] == '%' && strchr(s + sp + 1, '%') == NULL) {
            if ((g->cell[cc] = strndup(s, sp + 1)) == NULL)
                return -1;
            memmove(s, s + sp + 1, strlen(s + sp + 1) + 1);
            while (s[0] == ' ')
                memmove(s, s + 1, strlen(s));
            NOTE(cv, IMP_NOTE_INFO, where,
                 "completion '%s' split from the period cell (a cell missing)", g->cell[cc]);
        } else if (pct && pct[1] == '\0') {
            char *b = pct;
            while (b > s && (b[-1] == ' ' || (b[-1] >= '0' && b[-1] <= '9') || b[-1] == ',' ||
                             b[-1] == '.'))
                b--;
            while (*b == ' ')
                b++;
            if (b > s && *b >= '0' && *b <= '9') {
                if ((g->cell[cc] = strdup(b)) == NULL)
                    return -1;
                while (b > s && b[-1] == ' ')
                    b--;
                *b = '\0';
                NOTE(cv, IMP_NOTE_INFO, where,
                     "completion '%s' split from the period cell (a cell missing)", g->cell[cc]);
            }
        }
    }
    return 0;
}

/* ---- row classification ---------------------------------------------------------- */

static bool any_level(const conv_t *cv, const grid_t *g) {
    imp_col_t k[3] = {IMP_COL_BASELINE, IMP_COL_TARGET, IMP_COL_ACHIEVED};
    for (int i = 0; i < 3; i++)
        if (gt(g, col(cv, k[i]))[0])
            return true;
    return false;
}

static bool any_number_level(const conv_t *cv, const grid_t *g) {
    imp_col_t k[3] = {IMP_COL_BASELINE, IMP_COL_TARGET, IMP_COL_ACHIEVED};
    for (int i = 0; i < 3; i++) {
        imp_value_t v;
        imp_value_parse(gt(g, col(cv, k[i])), &v);
        if (v.kind == IMP_VAL_NUMBER)
            return true;
    }
    return false;
}

static bool is_subrow(const conv_t *cv, const grid_t *g) {
    const char *crit = gt(g, col(cv, IMP_COL_CRITERION));
    int numc = col(cv, IMP_COL_NUM);
    if (!cv->loose && numc >= 0 && g->cont[numc] && (crit[0] || any_level(cv, g)))
        return true;
    if (!cv->loose && crit[0])
        return true;
    return crit[0] && imp_text_starts_upper(crit) && any_level(cv, g);
}

/* The measure number of a row: the number cell, a longer number opening the measure
 * text ("1" + "1.1 Төрийн ..."), or "Арга хэмжээ 1.2". */
static bool row_number(const conv_t *cv, const grid_t *g, char *base, size_t basesz,
                       const char **how) {
    int numc = col(cv, IMP_COL_NUM);
    const char *num = gt(g, numc >= 0 ? numc : 0);
    const char *meas = gt(g, col(cv, IMP_COL_MEASURE));
    if (col(cv, IMP_COL_MEASURE) < 0)
        meas = gt(g, col(cv, IMP_COL_CRITERION)); /* "1.1 Сургалтын тоо" */
    char norm[AGG_INDICATOR_MAX + 1], inner[AGG_INDICATOR_MAX + 1];
    *how = "number cell";
    size_t ln = leading_number(meas, inner, sizeof inner);
    if (imp_measure_number(num, strlen(num), norm, sizeof norm)) {
        size_t nl = strlen(norm);
        /* A plain row counter in Д/д ("1", "5") gives way to a dotted measure number
         * opening the measure text ("1.1 Төрийн ...", "2.1 ..."): the measure number is
         * the indicator (SPEC 11). */
        if (ln && strchr(inner, '.') &&
            ((strncmp(inner, norm, nl) == 0 && inner[nl] == '.') || !strchr(norm, '.'))) {
            snprintf(base, basesz, "%s", inner);
            *how = "number opening the measure text";
        } else {
            snprintf(base, basesz, "%s", norm);
        }
        return true;
    }
    if (num[0] == '\0' || numc < 0) {
        /* the number written into the measure text, the number cell empty or missing;
         * only a dotted one ("3.2.1 Хяналт ..."), since "5 ажил" is prose */
        if (ln && strchr(inner, '.')) {
            snprintf(base, basesz, "%s", inner);
            *how = "number opening the measure text";
            return true;
        }
        char f[128];
        imp_text_fold(meas, strlen(meas) < 100 ? strlen(meas) : 100, f, sizeof f, false);
        static const char am[] = "арга хэмжээ ";
        if (strncmp(f, am, strlen(am)) == 0) {
            const char *p = f + strlen(am);
            size_t n = 0;
            while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')
                n++;
            if (n && imp_measure_number(p, n, norm, sizeof norm)) {
                snprintf(base, basesz, "%s", norm);
                *how = "Арга хэмжээ N";
                return true;
            }
        }
    }
    return false;
}

/* In a text export, a header cell with a line break ("Биелэл" / "-тийн хувь") goes on
 * the next line: a row whose filled cells are short, start in lower case or with a
 * hyphen, and sit under filled header cells continues the header. */
static bool header_continues(const grid_t *h, const grid_t *t) {
    bool any = false;
    for (int c = 0; c < IMP_CELLS_MAX; c++) {
        if (!t->cell[c])
            continue;
        if (!h->cell[c] || strlen(t->cell[c]) > 60 ||
            !(t->cell[c][0] == '-' || imp_text_starts_lower(t->cell[c])))
            return false;
        any = true;
    }
    return any;
}

/* An INFO note about block j read ahead of the current one, sorted at j's place (after
 * the header's own note). */
static int note_at(conv_t *cv, const imp_doc_t *doc, size_t j, const char *msg) {
    char w[48];
    imp_where(&doc->block[j], -1, w, sizeof w);
    size_t key = cv->res->note_key;
    cv->res->note_key = j + 1;
    int rc = imp_note(cv->res, IMP_NOTE_INFO, w, "%s", msg);
    cv->res->note_key = key;
    return rc;
}

static int header_at(conv_t *cv, const imp_doc_t *doc, size_t *i, grid_t *g, const char *where) {
    /* the rows under the header: its continuation lines, a second header row, a
     * numbering row */
    for (size_t j = *i + 1; cv->loose && j < doc->count; j++) {
        const imp_block_t *b = &doc->block[j];
        if (b->kind != IMP_ROW || b->sep)
            break;
        grid_t t;
        if (grid_from(&t, b) != 0)
            return -1;
        bool cont = header_continues(g, &t);
        for (int c = 0; c < IMP_CELLS_MAX && cont; c++)
            if (t.cell[c] && cell_append(&g->cell[c], t.cell[c]) != 0) {
                grid_free(&t);
                return -1;
            }
        grid_free(&t);
        if (!cont)
            break;
        if (note_at(cv, doc, j, "continues the header (a header cell broken over lines)") != 0)
            return -1;
        *i = j;
    }
    grid_t h2;
    memset(&h2, 0, sizeof h2);
    bool have_h2 = false;
    size_t j = *i + 1;
    for (; j < doc->count; j++) {
        const imp_block_t *b = &doc->block[j];
        if (b->kind != IMP_ROW || b->sep)
            break;
        grid_t t;
        if (grid_from(&t, b) != 0)
            return -1;
        if (grid_empty(&t)) {
            grid_free(&t);
            continue;
        }
        if (imp_is_numbering_row(t.cell, IMP_CELLS_MAX)) {
            grid_free(&t);
            if (note_at(cv, doc, j, "numbering row skipped") != 0)
                return -1;
            *i = j;
            continue;
        }
        /* A second header row: short cells, no measure number, no heading, and a
         * known header in it or a cell under an empty first-row cell (the span of a
         * merged header). */
        bool hdr = !have_h2, known = false;
        char norm[AGG_INDICATOR_MAX + 1], hcode[AGG_GOAL_MAX + 1];
        int hlevel;
        for (int c = 0; c < IMP_CELLS_MAX && hdr; c++) {
            if (!t.cell[c])
                continue;
            if (strlen(t.cell[c]) > 60 ||
                imp_measure_number(t.cell[c], strlen(t.cell[c]), norm, sizeof norm) ||
                imp_heading_parse(t.cell[c], &hlevel, hcode, sizeof hcode))
                hdr = false;
            if (imp_header_kind(t.cell[c]) != IMP_COL_NONE || g->cell[c] == NULL)
                known = true;
        }
        hdr = hdr && known;
        if (hdr) {
            have_h2 = true;
            h2 = t;
            *i = j;
            continue;
        }
        grid_free(&t);
        break;
    }
    int ncols = g->width;
    if (have_h2 && h2.width > ncols)
        ncols = h2.width;
    char notes[1024], err[1024];
    imp_colmap_t m;
    int rc = imp_colmap_build(&m, g->cell, have_h2 ? h2.cell : NULL, ncols, notes,
                              sizeof notes, err, sizeof err);
    grid_free(&h2);
    if (rc != 0) {
        cv->map_bad = true;
        cv->have_map = false;
        NOTE(cv, IMP_NOTE_ERROR, where, "%s", err);
        return 0;
    }
    cv->map = m;
    cv->have_map = true;
    cv->goal_col[0] = '\0';
    cv->map_bad = false;
    cv->dropped_col = cv->loose ? find_dropped_col(cv, doc, *i + 1) : -1;
    char list[1024];
    size_t o = 0;
    list[0] = '\0';
    for (int c = 0; c < m.ncols && o < sizeof list; c++)
        if (m.kind[c] != IMP_COL_NONE && m.kind[c] != IMP_COL_IGNORED)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%d=%s", o ? ", " : "", c + 1,
                                  imp_col_name(m.kind[c]));
    for (int q = 1; q <= 4 && o < sizeof list; q++)
        if (m.quarter_col[q] >= 0)
            o += (size_t)snprintf(list + o, sizeof list - o, ", %d=quarter %d",
                                  m.quarter_col[q] + 1, q);
    NOTE(cv, IMP_NOTE_INFO, where, "table header: %s%s%s%s", list, notes[0] ? "; " : "", notes,
         cv->dropped_col > 0 ? "; short rows lack the always-empty column" : "");
    if (cv->dropped_col > 0)
        NOTE(cv, IMP_NOTE_INFO, where, "column %d ('%s') is empty in every full row: taken "
             "as the cell a short row lacks", cv->dropped_col + 1, m.label[cv->dropped_col]);
    for (int c = 0; c < m.ncols; c++)
        if (m.kind[c] == IMP_COL_ACHIEVED || m.kind[c] == IMP_COL_COMPLETION)
            cv->res->saw_achieved = true;
    cv->res->saw_table = true;
    return 0;
}

static bool same_header(const conv_t *cv, grid_t *g) {
    if (!cv->have_map)
        return false;
    for (int c = 0; c < cv->map.ncols; c++) {
        imp_col_t k = imp_header_kind(gt(g, c));
        imp_col_t want = imp_header_kind(cv->map.label[c]);
        if (k != want && !(gt(g, c)[0] == '\0'))
            return false;
    }
    return true;
}

static int add_title(conv_t *cv, const char *text, const imp_block_t *b) {
    imp_result_t *res = cv->res;
    if (imp_grow(&res->title, &res->title_cap, res->ntitle, sizeof *res->title) != 0)
        return -1;
    imp_title_line_t *t = &res->title[res->ntitle++];
    t->text = text;
    imp_where(b, -1, t->where, sizeof t->where);
    return 0;
}

/* "1.\tБодлогын баримт бичигт тусгагдсан зорилт" with nothing else, followed by rows
 * numbered 1.1, 1.2 ...: a section heading, not a record. *level is 1 for "1", 2 for
 * "1.1" (as Зорилт N / N.M). */
static bool numbered_heading(const conv_t *cv, const imp_doc_t *doc, size_t at, const grid_t *g,
                             const char *base, int *level) {
    imp_col_t k[5] = {IMP_COL_CRITERION, IMP_COL_BASELINE, IMP_COL_TARGET, IMP_COL_ACHIEVED,
                      IMP_COL_COMPLETION};
    for (int j = 0; j < 5; j++)
        if (gt(g, col(cv, k[j]))[0])
            return false;
    int groups = 1;
    for (const char *p = base; *p; p++)
        groups += *p == '.';
    if (groups > 2)
        return false;
    size_t bl = strlen(base);
    int numc = col(cv, IMP_COL_NUM);
    /* the next row that has a number in the number cell decides */
    for (size_t j = at + 1; j < doc->count && j < at + 50; j++) {
        const imp_block_t *b = &doc->block[j];
        if (b->kind != IMP_ROW || b->sep)
            continue;
        const char *t = NULL;
        for (size_t c = 0; c < b->ncells; c++)
            if (b->cell[c].col == (numc >= 0 ? numc : 0))
                t = b->cell[c].text;
        char norm[AGG_INDICATOR_MAX + 1];
        if (t == NULL || !imp_measure_number(t, strlen(t), norm, sizeof norm))
            continue;
        if (strncmp(norm, base, bl) == 0 && norm[bl] == '.') {
            *level = groups;
            return true;
        }
        return false;
    }
    return false;
}

/* Whether the measure or criterion text of a numbered row starts in lower case: the
 * row continues a sentence begun above it. */
static bool continues_in_lower_case(const conv_t *cv, const grid_t *g) {
    const char *m = gt(g, col(cv, IMP_COL_MEASURE)), *c = gt(g, col(cv, IMP_COL_CRITERION));
    return (m[0] && imp_text_starts_lower(m)) || (!m[0] && c[0] && imp_text_starts_lower(c));
}

/* NOTE for row_block: on out of memory it leaves through fail, which frees the row. */
#define RNOTE(cv, kind, where, ...)                                                    \
    do {                                                                               \
        if (imp_note((cv)->res, kind, where, __VA_ARGS__) != 0)                        \
            goto fail;                                                                 \
    } while (0)

static int row_block(conv_t *cv, const imp_doc_t *doc, size_t *i) {
    const imp_block_t *b = &doc->block[*i];
    char where[48];
    imp_where(b, -1, where, sizeof where);
    if (b->sep) {
        /* a page-break line of the export: noted so that every line is accounted for */
        return cv->have_map ? imp_note(cv->res, IMP_NOTE_INFO, where, "separator line") : 0;
    }
    grid_t g;
    if (grid_from(&g, b) != 0)
        return -1;
    int rc = 0;
    if (grid_empty(&g))
        goto out;
    if (imp_is_header_row(g.cell, IMP_CELLS_MAX, cv->have_map ? 3 : 2)) {
        if (same_header(cv, &g)) {
            RNOTE(cv, IMP_NOTE_INFO, where, "the header again (a table in pieces): skipped");
            goto out;
        }
        if (flush(cv) != 0)
            goto fail;
        rc = header_at(cv, doc, i, &g, where);
        goto out;
    }
    if (!cv->have_map && !cv->map_bad) {
        /* a row before any table header: part of the title block (layout tables) */
        if (cv->res->ntitle_buf < sizeof cv->res->title_buf / sizeof cv->res->title_buf[0]) {
            char *tb = cv->res->title_buf[cv->res->ntitle_buf++];
            size_t o = 0;
            tb[0] = '\0';
            for (int c = 0; c < IMP_CELLS_MAX && o < 500; c++)
                if (g.cell[c])
                    o += (size_t)snprintf(tb + o, 512 - o, "%s%s", o ? " " : "", g.cell[c]);
            rc = add_title(cv, tb, b);
        }
        goto out;
    }
    if (imp_is_numbering_row(g.cell, IMP_CELLS_MAX)) {
        RNOTE(cv, IMP_NOTE_INFO, where, "numbering row skipped");
        goto out;
    }
    if (cv->map_bad) {
        RNOTE(cv, IMP_NOTE_SKIP, where, "skipped: the table's columns are not recognised");
        goto out;
    }
    if (cv->loose && fix_shape(cv, &g, where) != 0)
        goto fail;

    /* a heading in the first filled cell */
    int fc = 0;
    while (fc < IMP_CELLS_MAX && !g.cell[fc])
        fc++;
    int level;
    char code[AGG_GOAL_MAX + 1], norm[AGG_INDICATOR_MAX + 1];
    /* not a heading: the objective column's own cell ("Зорилт 6.1" beside "6.1.1"), or
     * a row that has a measure number in its number cell */
    int numc_h = col(cv, IMP_COL_NUM);
    bool numbered = numc_h >= 0 && numc_h != fc &&
                    imp_measure_number(gt(&g, numc_h), strlen(gt(&g, numc_h)), norm, sizeof norm);
    if (fc <= 1 && fc != col(cv, IMP_COL_GOAL) && !numbered &&
        !imp_measure_number(g.cell[fc], strlen(g.cell[fc]), norm, sizeof norm) &&
        imp_heading_parse(g.cell[fc], &level, code, sizeof code)) {
        bool others = false;
        for (int c = 0; c < IMP_CELLS_MAX; c++)
            others |= c != fc && g.cell[c] != NULL;
        if (others && any_number_level(cv, &g)) {
            if (flush(cv) != 0)
                goto fail;
            apply_heading(cv, level, code, where);
            RNOTE(cv, IMP_NOTE_INFO, where, "heading: objective %s", code);
            RNOTE(cv, IMP_NOTE_SKIP, where,
                 "skipped: the heading row of objective %s carries levels ('%s') but no "
                 "measure number",
                 code, ex(gt(&g, col(cv, IMP_COL_CRITERION))[0] ? gt(&g, col(cv, IMP_COL_CRITERION))
                                                                : gt(&g, col(cv, IMP_COL_TARGET))));
            goto out;
        }
        if (others && cv->cur.active) {
            free(g.cell[fc]);
            g.cell[fc] = NULL;
            if (continue_row(cv, &g) != 0)
                goto fail;
            RNOTE(cv, IMP_NOTE_INFO, where,
                 "the cells after the heading continue the row of %s", cv->cur.where);
        }
        if (flush(cv) != 0)
            goto fail;
        apply_heading(cv, level, code, where);
        RNOTE(cv, IMP_NOTE_INFO, where, "heading: objective %s%s", code,
             level == 0 ? " (strategic goal: not an objective code)" : "");
        if (level == 0)
            cv->goal_set[0] = false;
        goto out;
    }

    int gc = col(cv, IMP_COL_GOAL);
    if (gc >= 0 && g.cell[gc]) {
        /* "6.1", "Зорилт 6.1", "6.1. Хяналт ...": the objective of this row and the
         * rows under it (a vertically merged cell is empty below its first row) */
        char gcode[AGG_GOAL_MAX + 1];
        int glevel;
        const char *gtext = g.cell[gc];
        size_t gl = leading_number(gtext, gcode, sizeof gcode);
        bool ok = gl || imp_measure_number(gtext, strlen(gtext), gcode, sizeof gcode) ||
                  imp_heading_parse(gtext, &glevel, gcode, sizeof gcode);
        if (ok) {
            /* the row above belongs to the objective before this one */
            if (flush(cv) != 0)
                goto fail;
            snprintf(cv->goal_col, sizeof cv->goal_col, "%s", gcode);
            snprintf(cv->goal_col_src, sizeof cv->goal_col_src, "%s", where);
        } else {
            RNOTE(cv, IMP_NOTE_INFO, where, "objective cell '%s' holds no objective number",
                 ex(gtext));
        }
    }
    char base[AGG_INDICATOR_MAX + 1];
    const char *how;
    int numc = col(cv, IMP_COL_NUM);
    const char *num = gt(&g, numc >= 0 ? numc : 0);
    if (row_number(cv, &g, base, sizeof base, &how)) {
        if (cv->loose && cv->cur.active && cv->cur.skipped && cv->cur.skip_reason[0] &&
            continues_in_lower_case(cv, &g)) {
            /* the unnumbered row above is this row's top half (seed 000, 3.2.1): its
             * cells come first */
            int numc0 = col(cv, IMP_COL_NUM) >= 0 ? col(cv, IMP_COL_NUM) : 0;
            for (int c = 0; c < IMP_CELLS_MAX; c++) {
                if (c == numc0 || !cv->cur.g.cell[c])
                    continue;
                if (g.cell[c] && cell_append(&cv->cur.g.cell[c], g.cell[c]) != 0)
                    goto fail;
                free(g.cell[c]);
                g.cell[c] = cv->cur.g.cell[c];
                cv->cur.g.cell[c] = NULL;
            }
            RNOTE(cv, IMP_NOTE_INFO, where,
                  "the unnumbered row at %s is the top of this row (its cells continue here "
                  "in lower case)", cv->cur.where);
            cv->cur.skip_reason[0] = '\0';
        }
        if (flush(cv) != 0)
            goto fail;
        int hlevel;
        if (numbered_heading(cv, doc, *i, &g, base, &hlevel)) {
            apply_heading(cv, hlevel, base, where);
            RNOTE(cv, IMP_NOTE_INFO, where,
                  "heading: objective %s (a numbered row with no levels, the rows below "
                  "number under it)", base);
            goto out;
        }
        start(cv, &g, base, where, false, false);
        goto out;
    }
    if (num[0] == '\0') {
        if (is_subrow(cv, &g)) {
            bool have_parent = cv->cur.active ? !cv->cur.skipped && cv->last_base[0]
                                              : cv->last_base[0] != '\0';
            if (flush(cv) != 0)
                goto fail;
            if (!have_parent) {
                const char *hg, *hsrc;
                goal_in_force(cv, &hg, &hsrc);
                char reason[160];
                snprintf(reason, sizeof reason,
                         "skipped: levels with no measure number%s%s ('%s')",
                         hg ? " under the heading of objective " : "", hg ? hg : "",
                         ex(gt(&g, col(cv, IMP_COL_CRITERION))));
                start(cv, &g, "", where, true, false);
                memcpy(cv->cur.skip_reason, reason, sizeof reason);
                goto out;
            }
            char parent[AGG_INDICATOR_MAX + 1];
            snprintf(parent, sizeof parent, "%s", cv->last_base);
            start(cv, &g, parent, where, false, true);
            goto out;
        }
        if (cv->loose && cv->cur.active) {
            if (continue_row(cv, &g) != 0)
                goto fail;
            if (!cv->cur.skipped)
                RNOTE(cv, IMP_NOTE_INFO, where, "continues the row of %s", cv->cur.where);
            goto out;
        }
        if (any_number_level(cv, &g) || imp_text_starts_upper(gt(&g, col(cv, IMP_COL_CRITERION)))) {
            RNOTE(cv, IMP_NOTE_SKIP, where, "skipped: no measure number and no row above it");
        } else {
            RNOTE(cv, IMP_NOTE_INFO, where, "text with no measure number and no row above: "
                 "not a row ('%s')", ex(gt(&g, fc)));
        }
        goto out;
    }
    if (cv->loose && cv->cur.active && imp_text_starts_lower(num)) {
        if (continue_row(cv, &g) != 0)
            goto fail;
        if (!cv->cur.skipped)
            RNOTE(cv, IMP_NOTE_INFO, where, "continues the row of %s (starts in lower case)",
                 cv->cur.where);
        goto out;
    }
    if (flush(cv) != 0)
        goto fail;
    bool data = any_level(cv, &g) || gt(&g, col(cv, IMP_COL_CRITERION))[0];
    if (!data)
        RNOTE(cv, IMP_NOTE_INFO, where, "text row, not a record ('%s')", ex(num));
    start(cv, &g, "", where, true, false);
    if (data)
        snprintf(cv->cur.skip_reason, sizeof cv->cur.skip_reason,
                 "skipped: no measure number in the first cell ('%s')", ex(num));
    goto out;
fail:
    rc = -1;
out:
    grid_free(&g);
    return rc;
}

int imp_convert(const imp_doc_t *doc, const imp_convert_opts_t *o, imp_result_t *res,
                char *errstr, size_t errstr_size) {
    conv_t cv;
    memset(&cv, 0, sizeof cv);
    cv.o = o;
    cv.res = res;
    cv.loose = doc->loose;
    cv.dropped_col = -1;
    int rc = 0;
    for (size_t i = 0; i < doc->count && rc == 0; i++) {
        const imp_block_t *b = &doc->block[i];
        res->note_key = i + 1;
        if (b->kind == IMP_ROW) {
            rc = row_block(&cv, doc, &i);
            continue;
        }
        char where[48];
        imp_where(b, -1, where, sizeof where);
        int level;
        char code[AGG_GOAL_MAX + 1];
        if (imp_heading_parse(b->text, &level, code, sizeof code)) {
            rc = flush(&cv);
            apply_heading(&cv, level, code, where);
            if (level == 0)
                cv.goal_set[0] = false;
            if (imp_note(res, IMP_NOTE_INFO, where, "heading: objective %s%s", code,
                         level == 0 ? " (strategic goal: not an objective code)" : "") != 0)
                rc = -1;
        } else if (!cv.have_map && !cv.map_bad) {
            rc = add_title(&cv, b->text, b);
        } else {
            /* a paragraph between rows ends the row above (it cannot continue) */
            rc = flush(&cv);
            char exbuf[96];
            if (rc == 0 && imp_note(res, IMP_NOTE_INFO, where, "paragraph, not a table row ('%s')",
                                    imp_text_excerpt(b->text, 60, exbuf, sizeof exbuf)) != 0)
                rc = -1;
        }
    }
    if (rc == 0)
        rc = flush(&cv);
    res->note_key = 0; /* what follows (context, validation) is about the document */
    grid_free(&cv.cur.g);
    free(cv.seen);
    if (rc != 0)
        return agg_fail(errstr, errstr_size, "out of memory");
    return 0;
}
