/* Column mapping by the Mongolian headers. Headers are compared case-folded with
 * spaces, hyphens and punctuation squeezed out, so "Биелэл -тийн хувь", "Биелэтийн
 * хувь" (typo of seed 000) and "БИЕЛЭЛТИЙН ХУВЬ" are one header. The checks go from the
 * most specific phrase to the least ("Биелэлтийн хувь" before "Биелэлт", "Зорилтыг
 * хэрэгжүүлэх арга хэмжээ" before "Зорилт"). */
#include "import.h"
#include "text.h"
#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"

static const char *const col_names[IMP_COL__COUNT] = {
    "unknown", "number", "objective", "measure", "measure (2nd)", "criterion", "baseline",
    "target", "achieved", "completion", "period", "period end", "level group", "not used",
    "unit"};

const char *imp_col_name(imp_col_t k) {
    return (unsigned)k < IMP_COL__COUNT ? col_names[k] : "?";
}

static bool has(const char *s, const char *w) { return strstr(s, w) != NULL; }
static bool starts(const char *s, const char *w) { return strncmp(s, w, strlen(w)) == 0; }

imp_col_t imp_header_kind(const char *text) {
    char f[512];
    size_t n = imp_text_fold(text, strlen(text), f, sizeof f, true);
    if (n == 0 || n > 300)
        return IMP_COL_NONE;
    if (strcmp(f, "дд") == 0 || strcmp(f, "№") == 0 || strcmp(f, "дугаар") == 0 ||
        strcmp(f, "ддугаар") == 0)
        return IMP_COL_NUM;
    if ((starts(f, "биел") || starts(f, "гүйцэтгэл")) &&
        (has(f, "хувь") || has(f, "хувиар") || has(f, "%")))
        return IMP_COL_COMPLETION;
    /* the strategic goal (1-4) is the parent of an objective, not part of a record */
    if (starts(f, "стратегийнтөлөвлөгөөнийзорилго"))
        return IMP_COL_IGNORED;
    if (starts(f, "хэрэгжилт") && (has(f, "хувь") || has(f, "%")))
        return IMP_COL_COMPLETION;
    if (starts(f, "хэмжихнэгж") || strcmp(f, "нэгж") == 0)
        return IMP_COL_UNIT;
    if (has(f, "хүрсэн") || has(f, "хийгдсэн") || has(f, "хийсэнажил"))
        return IMP_COL_ACHIEVED;
    if (has(f, "суурь"))
        return IMP_COL_BASELINE;
    if (has(f, "хүрэх") || has(f, "зорилтот"))
        return IMP_COL_TARGET;
    if (has(f, "шалгуур"))
        return IMP_COL_CRITERION;
    if (has(f, "аргахэмжээ") || has(f, "үйлажиллагаа") || starts(f, "стратеги") ||
        has(f, "хөтөлбөр"))
        return IMP_COL_MEASURE;
    if (strcmp(f, "зорилт") == 0 || strcmp(f, "зорилго") == 0 || strcmp(f, "зорилтынкод") == 0)
        return IMP_COL_GOAL;
    if (has(f, "дуусах"))
        return IMP_COL_PERIOD_END;
    if (has(f, "хугацаа") || has(f, "улирал"))
        return IMP_COL_PERIOD;
    if (starts(f, "биелэлт") || strcmp(f, "гүйцэтгэл") == 0 || starts(f, "хэрэгжилт") ||
        starts(f, "үрдүн"))
        return IMP_COL_ACHIEVED;
    if (starts(f, "гүйцэтгэлийнтүвшин") || strcmp(f, "түвшин") == 0)
        return IMP_COL_GROUP;
    if (has(f, "гүйцэтгэл")) /* "2024 оны гүйцэтгэл" */
        return IMP_COL_ACHIEVED;
    if (starts(f, "төсөв") || starts(f, "хариуцах") || starts(f, "тайлбар") ||
        starts(f, "хариуцагч"))
        return IMP_COL_IGNORED;
    return IMP_COL_NONE;
}

static bool level_kind(imp_col_t k) {
    return k == IMP_COL_NUM || k == IMP_COL_CRITERION || k == IMP_COL_MEASURE ||
           k == IMP_COL_BASELINE || k == IMP_COL_TARGET || k == IMP_COL_ACHIEVED;
}

bool imp_is_header_row(char *const *text, int ncols, int min_known) {
    int known = 0, strong = 0;
    for (int c = 0; c < ncols; c++) {
        if (text[c] == NULL || text[c][0] == '\0')
            continue;
        /* A data row mentions the header words in its prose: headers are short and no
         * cell of theirs opens with a measure number ("1.3 Авлигын ..."). */
        if (text[c][0] >= '0' && text[c][0] <= '9' && strchr(text[c], ' ') &&
            imp_header_kind(text[c]) == IMP_COL_NONE)
            return false;
        char norm[72];
        if (imp_measure_number(text[c], strlen(text[c]), norm, sizeof norm) && c == 0 &&
            strchr(text[c], '.'))
            return false;
        if (strlen(text[c]) > 200)
            return false;
        /* headers hold no quantities (a numbering row is recognised on its own) */
        imp_value_t v;
        imp_value_parse(text[c], &v);
        if (v.kind == IMP_VAL_NUMBER)
            return false;
        /* a header starts with a capital (or is Д/д, №); a continued line of prose in
         * lower case that happens to hold header words is not one */
        if (imp_text_starts_lower(text[c]))
            continue;
        imp_col_t k = imp_header_kind(text[c]);
        if (k != IMP_COL_NONE)
            known++;
        if (level_kind(k))
            strong++;
    }
    return known >= min_known && strong >= 1;
}

bool imp_is_numbering_row(char *const *text, int ncols) {
    int expect = 1;
    for (int c = 0; c < ncols; c++) {
        if (text[c] == NULL || text[c][0] == '\0')
            continue;
        char *end;
        long v = strtol(text[c], &end, 10);
        if (*end != '\0' || v != expect)
            return false;
        expect++;
    }
    return expect > 3;
}

static void note(char *notes, size_t size, const char *fmt, const char *a, const char *b) {
    size_t used = strlen(notes);
    if (used + 1 >= size)
        return;
    snprintf(notes + used, size - used, fmt, a, b);
}

int imp_colmap_build(imp_colmap_t *m, char *const *h1, char *const *h2, int ncols,
                     char *notes, size_t notes_size, char *errstr, size_t errstr_size) {
    memset(m, 0, sizeof *m);
    if (notes_size)
        notes[0] = '\0';
    m->ncols = ncols;
    for (int k = 0; k < IMP_COL__COUNT; k++)
        m->col_of[k] = -1;
    for (int q = 0; q < 5; q++)
        m->quarter_col[q] = -1;
    /* The h1 header over each column: empty h1 cells under which h2 has a header take
     * the nearest h1 header on their left (a merged header cell exported as text). */
    const char *top[IMP_CELLS_MAX];
    const char *left = NULL;
    for (int c = 0; c < ncols; c++) {
        const char *t = h1[c] ? h1[c] : "";
        if (t[0] != '\0')
            left = t;
        else if (h2 != NULL && h2[c] != NULL && h2[c][0] != '\0')
            t = left ? left : "";
        top[c] = t;
    }
    for (int c = 0; c < ncols; c++) {
        imp_col_t k1 = imp_header_kind(top[c]);
        imp_col_t k2 = (h2 && h2[c] && h2[c][0]) ? imp_header_kind(h2[c]) : IMP_COL_NONE;
        /* "Биелэлт: Тоо | Хувь": the percent sub-column of a level is the completion */
        if (k2 == IMP_COL_NONE && h2 && h2[c] && h2[c][0]) {
            char f2[64];
            imp_text_fold(h2[c], strlen(h2[c]), f2, sizeof f2, true);
            if (strcmp(f2, "хувь") == 0 || strcmp(f2, "%") == 0 || strcmp(f2, "хувиар") == 0)
                k2 = IMP_COL_COMPLETION;
        }
        imp_col_t k = k2 != IMP_COL_NONE ? k2 : k1;
        /* A level group without sub-headers ("Гүйцэтгэлийн түвшин" alone) is the
         * achieved level. */
        if (k == IMP_COL_GROUP)
            k = IMP_COL_ACHIEVED;
        /* "Хугацаа: I | II | III | IV" or "Зорилтот түвшин: I улирал | ...": which
         * quarter each sub-column is */
        if (h2 && h2[c] && h2[c][0] && (k1 == IMP_COL_PERIOD || k1 == IMP_COL_TARGET)) {
            char f2[64];
            imp_text_fold(h2[c], strlen(h2[c]), f2, sizeof f2, true);
            static const char *const qn[5][3] = {{NULL},
                                                 {"i", "iулирал", "1улирал"},
                                                 {"ii", "iiулирал", "2улирал"},
                                                 {"iii", "iiiулирал", "3улирал"},
                                                 {"iv", "ivулирал", "4улирал"}};
            for (int q = 1; q <= 4; q++)
                for (int v = 0; v < 3; v++)
                    if (strcmp(f2, qn[q][v]) == 0)
                        m->quarter_col[q] = c;
            if (k1 == IMP_COL_PERIOD && k2 == IMP_COL_NONE)
                k = IMP_COL_IGNORED; /* the quarter columns are read as marks */
        }
        const char *label = (h2 && h2[c] && h2[c][0]) ? h2[c] : top[c];
        if (h2 && h2[c] && h2[c][0] && k2 == IMP_COL_NONE && top[c][0])
            snprintf(m->label[c], sizeof m->label[c], "%.44s / %.44s", top[c], h2[c]);
        else
            snprintf(m->label[c], sizeof m->label[c], "%.90s", label);
        int prev = m->col_of[k];
        if (k == IMP_COL_NONE || k == IMP_COL_IGNORED) {
            m->kind[c] = k;
            continue;
        }
        if (prev >= 0) {
            if (k == IMP_COL_MEASURE && m->col_of[IMP_COL_MEASURE2] < 0) {
                k = IMP_COL_MEASURE2;
                prev = -1;
            } else if (k == IMP_COL_BASELINE || k == IMP_COL_TARGET || k == IMP_COL_ACHIEVED) {
                /* The last sub-column of a level is the level at the end of the
                 * period (Хүрэх түвшин: Эхний хагас жил | Сүүлийн хагас жил). */
                note(notes, notes_size, "column '%s' not used, the later '%s' is; ",
                     m->label[prev], m->label[c]);
                m->kind[prev] = IMP_COL_IGNORED;
            } else {
                note(notes, notes_size, "column '%s' not used (a second '%s'); ", m->label[c],
                     imp_col_name(k));
                m->kind[c] = IMP_COL_IGNORED;
                continue;
            }
        }
        m->kind[c] = k;
        m->col_of[k] = c;
    }
    bool has_id = m->col_of[IMP_COL_NUM] >= 0 || m->col_of[IMP_COL_MEASURE] >= 0 ||
                  m->col_of[IMP_COL_CRITERION] >= 0;
    bool has_val = m->col_of[IMP_COL_BASELINE] >= 0 || m->col_of[IMP_COL_TARGET] >= 0 ||
                   m->col_of[IMP_COL_ACHIEVED] >= 0 || m->col_of[IMP_COL_COMPLETION] >= 0;
    if (!has_id || !has_val) {
        size_t used = (size_t)snprintf(errstr, errstr_size,
                                       "columns not recognised (need Д/д, a measure or a "
                                       "criterion column, and a level column); headers found:");
        for (int c = 0; c < ncols && used < errstr_size; c++)
            used += (size_t)snprintf(errstr + used, errstr_size - used, " [%s]",
                                     m->label[c]);
        return -1;
    }
    for (int c = 0; c < ncols; c++)
        if (m->kind[c] == IMP_COL_NONE && m->label[c][0])
            note(notes, notes_size, "column '%s' not recognised, not used%s; ", m->label[c], "");
    return 0;
}
