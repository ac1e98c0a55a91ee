/* Context from the title block (SPEC 11), never guessed:
 *  - region: a name of reference/regions.csv as a word of its own, in any case, bare
 *    or with a genitive/case ending (БАЯНГОЛ ДҮҮРГИЙН, Хөвсгөл аймгийн, Дорноговийн).
 *    A word after an initial (Н.ХӨВСГӨЛ...) is a person's name, a word before сум is a
 *    soum; the following аймаг/дүүрэг decides between namesakes (Сүхбаатар); a name
 *    that is also a common word (Төв = centre) counts only before аймаг. No match or
 *    two different regions: the region is not found (--region is needed).
 *  - year: "2024 ОНЫ" / "2026 он"; a year on a line about an order (тушаал, тогтоол,
 *    захирамж) is the order's year, not the report's. Without one, a date line
 *    (2024.06.20) gives it. Two different years: not found.
 *  - period: ХАГАС ЖИЛ = 2, ЖИЛИЙН ЭЦСИЙН / БҮТЭН ЖИЛ = 4, I..IV улирал = 1..4; no cue
 *    or two different cues: not found (--quarter is needed).
 *  - plan or report: ТАЙЛАН / БИЕЛЭЛТ = report, else ТӨЛӨВЛӨГӨӨ = plan. */
#include "import.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/csv.h"
#include "agg/log.h"

int imp_region_names_load(imp_region_names_t *rn, const char *csv_text, char *errstr,
                          size_t errstr_size) {
    memset(rn, 0, sizeof *rn);
    FILE *in = fmemopen((void *)csv_text, strlen(csv_text), "rb");
    if (in == NULL)
        return agg_fail(errstr, errstr_size, "regions: out of memory");
    agg_csv_t *csv = malloc(sizeof *csv);
    if (csv == NULL) {
        fclose(in);
        return agg_fail(errstr, errstr_size, "regions: out of memory");
    }
    agg_csv_init(csv, in);
    int ci = -1, ni = -1, ki = -1, rc, ret = 0;
    char why[200];
    bool header = true;
    while ((rc = agg_csv_next(csv, why, sizeof why)) != 0) {
        if (rc < 0) {
            ret = agg_fail(errstr, errstr_size, "regions line %ld: %s", csv->line, why);
            break;
        }
        if (header) {
            for (size_t f = 0; f < csv->nfields; f++) {
                if (strcmp(csv->field[f], "code") == 0)
                    ci = (int)f;
                else if (strcmp(csv->field[f], "name_mn") == 0)
                    ni = (int)f;
                else if (strcmp(csv->field[f], "kind") == 0)
                    ki = (int)f;
            }
            header = false;
            if (ci < 0 || ni < 0) {
                ret = agg_fail(errstr, errstr_size, "regions: need columns code and name_mn");
                break;
            }
            continue;
        }
        if ((size_t)ci >= csv->nfields || (size_t)ni >= csv->nfields)
            continue;
        if (rn->count == sizeof rn->r / sizeof rn->r[0]) {
            ret = agg_fail(errstr, errstr_size, "regions: more than %zu",
                           sizeof rn->r / sizeof rn->r[0]);
            break;
        }
        if (csv->field_len[ci] > AGG_REGION_MAX)
            continue;
        snprintf(rn->r[rn->count].code, sizeof rn->r[0].code, "%s", csv->field[ci]);
        imp_text_fold(csv->field[ni], csv->field_len[ni], rn->r[rn->count].name,
                      sizeof rn->r[0].name, false);
        rn->r[rn->count].district =
            ki >= 0 && (size_t)ki < csv->nfields && strstr(csv->field[ki], "district");
        rn->count++;
    }
    free(csv);
    fclose(in);
    return ret;
}

/* Word characters: letters (any non-ASCII byte: Cyrillic), digits and the hyphen of
 * names like Хан-Уул. */
static bool word_byte(unsigned char c) {
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Case endings a region name takes in titles. */
static const char *const endings[] = {"",    "ийн", "ын", "гийн", "ний", "н",  "ы",  "ий",
                                      "ийг", "ыг",  "д",  "т",    "ад",  "ид", "ээс", "аас"};

static bool name_matches(const char *word, size_t wn, const char *name) {
    size_t n = strlen(name);
    for (int pass = 0; pass < 2; pass++) {
        size_t stem = n;
        /* Дорноговь -> Дорноговийн, Сэлэнгэ -> Сэлэнгийн: a final soft sign or vowel
         * drops before an ending */
        if (pass == 1) {
            static const char *const drop[] = {"ь", "э", "а", "о", "ө", "у", "ү", "е"};
            bool drops = false;
            for (size_t k = 0; k < sizeof drop / sizeof drop[0] && n >= 2; k++)
                drops |= strcmp(name + n - 2, drop[k]) == 0;
            if (!drops)
                break;
            stem = n - 2;
        }
        if (wn < stem || strncmp(word, name, stem) != 0)
            continue;
        for (size_t e = pass; e < sizeof endings / sizeof endings[0]; e++) {
            size_t en = strlen(endings[e]);
            if (wn == stem + en && strncmp(word + stem, endings[e], en) == 0)
                return true;
        }
    }
    return false;
}

typedef struct {
    const char *s;
    size_t n;
} tok_t;

/* Splits folded text into words; returns the count (at most max). */
static size_t words(const char *f, tok_t *w, size_t max, size_t *before_dot) {
    size_t k = 0, i = 0;
    while (f[i] && k < max) {
        while (f[i] && !word_byte((unsigned char)f[i]))
            i++;
        if (!f[i])
            break;
        size_t b = i;
        while (f[i] && word_byte((unsigned char)f[i]))
            i++;
        w[k].s = f + b;
        w[k].n = i - b;
        before_dot[k] = b > 0 && f[b - 1] == '.';
        k++;
    }
    return k;
}

static bool word_is(const tok_t *w, const char *prefix) {
    size_t n = strlen(prefix);
    return w->n >= n && strncmp(w->s, prefix, n) == 0;
}

/* A one-letter word (an initial: Н.ХӨВСГӨЛДАЛАЙ, Б.БАЯРТУЯА). */
static bool initial(const tok_t *w) {
    return w->n <= 2 && (unsigned char)w->s[0] >= 0x80 ? w->n == 2 : w->n == 1;
}

/* The capital districts' usual abbreviations (БЗД-ийн, СХД): a word of its own, alone
 * or before a hyphenated ending. НД is left out: it also abbreviates Нийгмийн даатгал. */
static const char *district_abbreviation(const tok_t *w) {
    static const struct {
        const char *abbr, *code;
    } abbr[] = {{"бгд", "ub-bayangol"},  {"бзд", "ub-bayanzurkh"}, {"схд", "ub-songinokhairkhan"},
                {"сбд", "ub-sukhbaatar"}, {"худ", "ub-khan-uul"},  {"чд", "ub-chingeltei"},
                {"бнд", "ub-baganuur"},  {"бхд", "ub-bagakhangai"}};
    for (size_t k = 0; k < sizeof abbr / sizeof abbr[0]; k++) {
        size_t n = strlen(abbr[k].abbr);
        if (w->n >= n && strncmp(w->s, abbr[k].abbr, n) == 0 && (w->n == n || w->s[n] == '-'))
            return abbr[k].code;
    }
    return NULL;
}

static void find_region(imp_context_t *c, const imp_title_line_t *lines, size_t n,
                        const imp_region_names_t *rn) {
    int found = -1;
    char where[48] = "";
    bool ambiguous_namesake = false;
    for (size_t l = 0; l < n; l++) {
        char f[2048];
        imp_text_fold(lines[l].text, strlen(lines[l].text), f, sizeof f, false);
        tok_t w[256];
        size_t dot[256];
        size_t nw = words(f, w, 256, dot);
        for (size_t i = 0; i < nw; i++) {
            if (i > 0 && dot[i] && initial(&w[i - 1]))
                continue; /* a person's name */
            const tok_t *next = i + 1 < nw ? &w[i + 1] : NULL;
            if (next && word_is(next, "сум"))
                continue; /* a soum's name */
            bool aimag = next && word_is(next, "аймг");
            aimag = aimag || (next && word_is(next, "аймаг"));
            bool district = next && (word_is(next, "дүүрэг") || word_is(next, "дүүрг"));
            int match = -1, nmatch = 0;
            const char *abbr_code = district_abbreviation(&w[i]);
            for (size_t r = 0; r < rn->count; r++) {
                if (abbr_code ? strcmp(rn->r[r].code, abbr_code) != 0
                              : !name_matches(w[i].s, w[i].n, rn->r[r].name))
                    continue;
                if (strcmp(rn->r[r].name, "төв") == 0 && !aimag)
                    continue;
                if ((aimag && rn->r[r].district) || (district && !rn->r[r].district))
                    continue;
                match = (int)r;
                nmatch++;
            }
            if (nmatch > 1) {
                ambiguous_namesake = true;
                snprintf(c->region_err, sizeof c->region_err,
                         "%s: '%.*s' names both an aimag and a capital district (no аймаг "
                         "or дүүрэг after it); give --region",
                         lines[l].where, (int)w[i].n, w[i].s);
                continue;
            }
            if (match < 0)
                continue;
            if (found >= 0 && found != match) {
                snprintf(c->region_err, sizeof c->region_err,
                         "two regions in the title: %s (%s) and %s (%s); give --region",
                         rn->r[found].code, where, rn->r[match].code, lines[l].where);
                c->region[0] = '\0';
                return;
            }
            if (found < 0) {
                found = match;
                snprintf(where, sizeof where, "%s", lines[l].where);
                snprintf(c->region_src, sizeof c->region_src, "%s: '%.*s'", lines[l].where,
                         (int)(w[i].n < 120 ? w[i].n : 120), w[i].s);
            }
        }
    }
    if (found >= 0) {
        snprintf(c->region, sizeof c->region, "%s", rn->r[found].code);
        c->region_err[0] = '\0';
    } else if (!ambiguous_namesake) {
        snprintf(c->region_err, sizeof c->region_err,
                 "no region name of reference/regions.csv in the title; give --region");
    }
}

static bool order_line(const char *f) {
    return strstr(f, "тушаал") || strstr(f, "тогтоол") || strstr(f, "захирамж");
}

static void find_year(imp_context_t *c, const imp_title_line_t *lines, size_t n) {
    int year = 0, date_year = 0;
    char date_where[48] = "";
    for (size_t l = 0; l < n; l++) {
        char f[2048];
        imp_text_fold(lines[l].text, strlen(lines[l].text), f, sizeof f, false);
        bool order = order_line(f);
        for (const char *p = f; *p; p++) {
            if (!(p[0] == '2' && p[1] >= '0' && p[1] <= '1' && p[2] >= '0' && p[2] <= '9' &&
                  p[3] >= '0' && p[3] <= '9') ||
                (p > f && p[-1] >= '0' && p[-1] <= '9') || (p[4] >= '0' && p[4] <= '9'))
                continue;
            int y = atoi(p);
            if (y < AGG_YEAR_MIN || y > AGG_YEAR_MAX)
                continue;
            const char *q = p + 4;
            while (*q == ' ')
                q++;
            bool on = strncmp(q, "он", strlen("он")) == 0;
            bool date = (p[4] == '.' || p[4] == '-') && p[5] >= '0' && p[5] <= '1';
            if (on && !order) {
                if (year && year != y) {
                    snprintf(c->year_err, sizeof c->year_err,
                             "two years in the title (%d, %d at %s); give --year", year, y,
                             lines[l].where);
                    c->year = 0;
                    return;
                }
                if (!year)
                    snprintf(c->year_src, sizeof c->year_src, "%s: '%d он'", lines[l].where, y);
                year = y;
            } else if (date && !order && !date_year) {
                date_year = y;
                snprintf(date_where, sizeof date_where, "%s", lines[l].where);
            }
        }
    }
    if (!year && date_year) {
        year = date_year;
        snprintf(c->year_src, sizeof c->year_src, "%s: the document date", date_where);
    }
    c->year = year;
    if (!year)
        snprintf(c->year_err, sizeof c->year_err,
                 "no year in the title ('2024 ОНЫ' or a date; an order's year does not "
                 "count); give --year");
}

static void find_quarter(imp_context_t *c, const imp_title_line_t *lines, size_t n) {
    static const struct {
        const char *cue;
        int q;
    } cues[] = {
        {"хагас жил", 2},       {"жилийн эцсийн", 4},   {"жилийн эцэс", 4},
        {"бүтэн жил", 4},       {"iv улирал", 4},       {"iii улирал", 3},
        {"ii улирал", 2},       {"i улирал", 1},
        /* the genitive: "I улирлын тайлан" */
        {"iv улирлын", 4},      {"iii улирлын", 3},     {"ii улирлын", 2},
        {"i улирлын", 1},       {"нэгдүгээр улирал", 1},
        {"хоёрдугаар улирал", 2}, {"гуравдугаар улирал", 3}, {"дөрөвдүгээр улирал", 4},
        {"1-р улирал", 1},      {"2-р улирал", 2},      {"3-р улирал", 3},
        {"4-р улирал", 4},      {"9 сарын", 3},         {"6 сарын", 2},
        {"1-р улирлын", 1},     {"2-р улирлын", 2},     {"3-р улирлын", 3},
        {"4-р улирлын", 4},     {"нэгдүгээр улирлын", 1}, {"хоёрдугаар улирлын", 2},
        {"гуравдугаар улирлын", 3}, {"дөрөвдүгээр улирлын", 4},
        {"жилийн тайлан", 4},   {"жилийн гүйцэтгэлийн тайлан", 4},
    };
    int q = 0;
    for (size_t l = 0; l < n; l++) {
        char f[2048];
        imp_text_fold(lines[l].text, strlen(lines[l].text), f, sizeof f, false);
        for (size_t k = 0; k < sizeof cues / sizeof cues[0]; k++) {
            const char *hit = strstr(f, cues[k].cue);
            /* roman numerals must stand alone: "i улирал" inside "ii улирал" is not */
            if (hit == NULL || (hit > f && word_byte((unsigned char)hit[-1])))
                continue;
            if (q && q != cues[k].q) {
                snprintf(c->quarter_err, sizeof c->quarter_err,
                         "two periods in the title (quarter %d and %d at %s); give --quarter",
                         q, cues[k].q, lines[l].where);
                c->quarter = 0;
                return;
            }
            if (!q)
                snprintf(c->quarter_src, sizeof c->quarter_src, "%s: '%s'", lines[l].where,
                         cues[k].cue);
            q = cues[k].q;
            break;
        }
    }
    c->quarter = q;
    if (!q)
        snprintf(c->quarter_err, sizeof c->quarter_err,
                 "no period in the title (ХАГАС ЖИЛ, I улирал, ЖИЛИЙН ЭЦСИЙН ...); give "
                 "--quarter");
}

static void find_kind(imp_context_t *c, const imp_title_line_t *lines, size_t n) {
    const char *plan_where = NULL;
    for (size_t l = 0; l < n; l++) {
        char f[2048];
        imp_text_fold(lines[l].text, strlen(lines[l].text), f, sizeof f, false);
        if (strstr(f, "тайлан") || strstr(f, "биелэлт")) {
            c->kind = IMP_KIND_REPORT;
            snprintf(c->kind_src, sizeof c->kind_src, "%s: ТАЙЛАН/БИЕЛЭЛТ", lines[l].where);
            return;
        }
        if (strstr(f, "төлөвлөгөө") && plan_where == NULL)
            plan_where = lines[l].where;
    }
    if (plan_where) {
        c->kind = IMP_KIND_PLAN;
        snprintf(c->kind_src, sizeof c->kind_src, "%s: ТӨЛӨВЛӨГӨӨ", plan_where);
        return;
    }
    c->kind = IMP_KIND_UNKNOWN;
    snprintf(c->kind_err, sizeof c->kind_err,
             "the title says neither ТАЙЛАН/БИЕЛЭЛТ (report) nor ТӨЛӨВЛӨГӨӨ (plan)");
}

void imp_context_find(imp_context_t *c, const imp_title_line_t *lines, size_t n,
                      const imp_region_names_t *rn) {
    memset(c, 0, sizeof *c);
    find_region(c, lines, n, rn);
    find_year(c, lines, n);
    find_quarter(c, lines, n);
    find_kind(c, lines, n);
}
