/* Number forms, in order of the checks:
 *   "-", "–"                       none (an explicit "nothing")
 *   [-]DIGITS[SEP DIGITS]...       the number; SEP is ',' or '.'
 *   [ ]%  or  хувь                 percent
 *   сая / тэрбум / мянга(н)        scale 10^6 / 10^9 / 10^3 (a misspelt word is text)
 *   төгрөг / төг / ₮               money
 * Separators (SPEC 11): a single ',' or '.' followed by exactly three digits (after
 * one to three digits) is a thousands separator (1,081; 20.249); several equal ones in
 * groups of three are too (13,301,381,100); otherwise the one separator is a decimal
 * mark (75,8; 99,94). With a scale word a three-digit group is ambiguous (9.765 тэрбум:
 * 9 765 or 9.765 billion?) and the cell is text. More than two decimals after scaling
 * cannot be written exactly in the canonical CSV and are text as well. */
#include "value.h"

#include <string.h>

#include "agg/record.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static size_t skip_spaces(const char *s, size_t i) {
    while (s[i] == ' ')
        i++;
    return i;
}

/* If s+i starts with word (followed by a space, end, or punctuation), its length. */
static size_t word_at(const char *s, size_t i, const char *word) {
    size_t n = strlen(word);
    if (strncmp(s + i, word, n) != 0)
        return 0;
    char c = s[i + n];
    if (c == '\0' || c == ' ' || c == ',' || c == '.' || c == ';' || c == ')' || c == '/')
        return n;
    return 0;
}

/* The cell without surrounding quotes and trailing punctuation, into buf. */
static const char *strip(const char *s, char *buf, size_t bufsz) {
    static const char *const quotes[] = {"\"", "'", "\xE2\x80\x9C", "\xE2\x80\x9D",
                                         "\xE2\x80\x9E", "\xC2\xAB", "\xC2\xBB"};
    size_t len = strlen(s);
    if (len + 1 > bufsz)
        len = bufsz - 1;
    const char *b = s, *e = s + len;
    for (bool again = true; again;) {
        again = false;
        while (b < e && *b == ' ')
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == ',' || e[-1] == ';' || e[-1] == ':'))
            e--;
        for (size_t q = 0; q < sizeof quotes / sizeof quotes[0]; q++) {
            size_t n = strlen(quotes[q]);
            if ((size_t)(e - b) >= n && memcmp(b, quotes[q], n) == 0) {
                b += n;
                again = true;
            }
            if ((size_t)(e - b) >= n && memcmp(e - n, quotes[q], n) == 0) {
                e -= n;
                again = true;
            }
        }
    }
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = '\0';
    return buf;
}

static void text(imp_value_t *v, const char *why) {
    memset(v, 0, sizeof *v);
    v->kind = IMP_VAL_TEXT;
    v->why = why;
}

/* Reads the digits of tok[0..n) with the separator rule into integer and fraction
 * digits. Returns NULL or the reason it is not a number. */
static const char *split_number(const char *tok, size_t n, bool scaled, char *ipart,
                                size_t *ni, char *fpart, size_t *nf, bool *thousands) {
    size_t nsep = 0, last = 0;
    char sep1 = 0;
    bool mixed = false;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] == ',' || tok[i] == '.') {
            if (nsep && tok[i] != sep1)
                mixed = true;
            if (!nsep)
                sep1 = tok[i];
            nsep++;
            last = i;
        }
    }
    *ni = *nf = 0;
    *thousands = false;
    /* Group lengths between separators. */
    size_t group[32], ng = 0, run = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || tok[i] == ',' || tok[i] == '.') {
            if (run == 0 || ng == 32)
                return "unreadable number";
            group[ng++] = run;
            run = 0;
        } else {
            run++;
        }
    }
    size_t dec_at = n; /* index of the decimal mark, n = none */
    if (nsep == 1) {
        if (group[1] == 3 && group[0] <= 3) {
            if (scaled)
                return "a three-digit group with a scale word is ambiguous";
            *thousands = true;
        } else {
            dec_at = last;
        }
    } else if (nsep > 1) {
        size_t upto = mixed ? ng - 1 : ng; /* groups that must be thousands groups */
        if (mixed) {
            /* only the last separator may differ: 1.234,5 */
            for (size_t i = 0; i < last; i++)
                if ((tok[i] == ',' || tok[i] == '.') && tok[i] != sep1)
                    return "unreadable number";
            if (tok[last] == sep1)
                return "unreadable number";
            dec_at = last;
        }
        if (group[0] > 3)
            return "unreadable number";
        for (size_t g = 1; g < upto; g++)
            if (group[g] != 3)
                return "unreadable number";
        *thousands = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(tok[i]))
            continue;
        if (i < dec_at) {
            if (*ni >= 20)
                return "number out of range";
            ipart[(*ni)++] = tok[i];
        } else {
            if (*nf >= 20)
                return "more than 2 decimals";
            fpart[(*nf)++] = tok[i];
        }
    }
    return NULL;
}

/* Whether the space at s[i] ends the number rather than separating thousands: it does
 * unless the token so far is digits only (1-3 of them, or whole 3-digit groups) and
 * exactly three digits follow, then a non-digit. */
static bool spaced_stop(const char *s, size_t i, size_t lead, size_t tn, const char *tok) {
    if (lead == 0 || lead > 3 || (tn - lead) % 3 != 0)
        return true;
    for (size_t k = 0; k < tn; k++)
        if (!is_digit(tok[k]))
            return true;
    return !(is_digit(s[i + 1]) && is_digit(s[i + 2]) && is_digit(s[i + 3]) &&
             !is_digit(s[i + 4]));
}

void imp_value_parse(const char *cell, imp_value_t *v) {
    char buf[512];
    const char *s = strip(cell, buf, sizeof buf);
    memset(v, 0, sizeof *v);
    if (s[0] == '\0') {
        v->kind = IMP_VAL_EMPTY;
        return;
    }
    if (strcmp(s, "-") == 0 || strcmp(s, "--") == 0 || strcmp(s, "\xE2\x80\x93") == 0 ||
        strcmp(s, "\xE2\x80\x94") == 0) {
        v->kind = IMP_VAL_NONE;
        return;
    }
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' && is_digit(s[1])) {
        neg = true;
        i = 1;
    } else if (strncmp(s, "\xE2\x88\x92", 3) == 0 && is_digit(s[3])) { /* − */
        neg = true;
        i = 3;
    }
    if (!is_digit(s[i])) {
        bool digits = strpbrk(s, "0123456789") != NULL;
        text(v, digits ? "a number inside text" : "prose, not a number");
        return;
    }
    /* The number token; a space (or, cleaned, a no-break space) before exactly three
     * digits after a first group of one to three is a thousands separator too
     * ("13 301 381 100"), so "78 72,9%" stays two quantities. */
    char tok[64];
    size_t tn = 0, lead = 0;
    bool spaced = false;
    while (is_digit(s[i]) || ((s[i] == ',' || s[i] == '.') && is_digit(s[i + 1])) ||
           (s[i] == ' ' && !spaced_stop(s, i, lead, tn, tok))) {
        if (s[i] == ' ') {
            spaced = true;
            i++;
            continue;
        }
        if (tn + 1 >= sizeof tok) {
            text(v, "number out of range");
            return;
        }
        if (!spaced && is_digit(s[i]) && tn == lead)
            lead++;
        tok[tn++] = s[i++];
    }
    tok[tn] = '\0';
    i = skip_spaces(s, i);
    size_t w;
    if (s[i] == '%') {
        v->percent = true;
        i = skip_spaces(s, i + 1);
    } else if ((w = word_at(s, i, "хувь")) != 0) {
        v->percent = true;
        i = skip_spaces(s, i + w);
    }
    if ((w = word_at(s, i, "сая")) != 0)
        v->scale = 6;
    else if ((w = word_at(s, i, "тэрбум")) != 0)
        v->scale = 9;
    else if ((w = word_at(s, i, "мянган")) != 0 || (w = word_at(s, i, "мянга")) != 0)
        v->scale = 3;
    if (w && v->scale)
        i = skip_spaces(s, i + w);
    static const char *const money[] = {"төгрөгийн", "төгрөгөөр", "төгрөг", "төг", "₮"};
    for (size_t m = 0; m < sizeof money / sizeof money[0]; m++) {
        if ((w = word_at(s, i, money[m])) != 0) {
            v->money = true;
            i = skip_spaces(s, i + w);
            break;
        }
    }
    /* One counting word after a plain number ("12 удаа", "3 хүн") names what is
     * counted, it is not a sentence; people make the unit person. */
    static const struct {
        const char *word;
        bool person;
    } counters[] = {{"удаа", false},      {"ширхэг", false}, {"байгууллага", false},
                    {"ААНБ", false},      {"сургалт", false}, {"хүн", true},
                    {"иргэн", true},      {"даатгуулагч", true}, {"ажилтан", true},
                    {"оролцогч", true},   {"албан хаагч", true}};
    if (!v->percent && !v->scale && !v->money) {
        for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
            if ((w = word_at(s, i, counters[k].word)) != 0) {
                v->person = counters[k].person;
                i = skip_spaces(s, i + w);
                break;
            }
        }
    }
    if (s[i] == '.')
        i = skip_spaces(s, i + 1);
    if (s[i] != '\0') {
        bool digits = strpbrk(s + i, "0123456789") != NULL;
        text(v, digits ? "several quantities in one cell" : "a number inside text");
        return;
    }
    if (v->percent && (v->scale || v->money)) {
        text(v, "a percent with a scale or currency word");
        return;
    }
    char ip[24], fp[24];
    size_t ni, nf;
    const char *why = split_number(tok, tn, v->scale != 0, ip, &ni, fp, &nf, &v->thousands);
    v->thousands |= spaced;
    if (why != NULL) {
        int scale = v->scale;
        text(v, why);
        v->scale = scale;
        return;
    }
    /* value * 100 * 10^scale as an exact integer: the fraction digits shift left by
     * the scale; anything beyond two places after that is not representable. */
    int64_t x = 0;
    const int64_t limit = AGG_AMOUNT_MAX_X100;
    size_t shift = (size_t)v->scale + 2; /* decimal places moved into the integer */
    for (size_t k = 0; k < ni; k++) {
        if (x > limit / 10) {
            text(v, "number out of range");
            return;
        }
        x = x * 10 + (ip[k] - '0');
    }
    for (size_t k = 0; k < shift; k++) {
        if (x > limit / 10) {
            text(v, "number out of range");
            return;
        }
        x = x * 10 + (k < nf ? fp[k] - '0' : 0);
    }
    for (size_t k = shift; k < nf; k++) {
        if (fp[k] != '0') {
            text(v, "more than 2 decimals");
            return;
        }
    }
    if (x > limit) {
        text(v, "number out of range");
        return;
    }
    v->kind = IMP_VAL_NUMBER;
    v->x100 = neg ? -x : x;
}

int imp_completion_parse(const char *s, int32_t *x100, const char **why, const char **note) {
    imp_value_t v;
    *why = *note = NULL;
    imp_value_parse(s, &v);
    if (v.kind == IMP_VAL_EMPTY || v.kind == IMP_VAL_NONE)
        return 0;
    if (v.kind == IMP_VAL_TEXT) {
        /* "100 % II, улирал": a percent, then words with no other number. */
        char head[64];
        size_t n = 0;
        const char *pct = strchr(s, '%');
        if (pct == NULL || (size_t)(pct - s) + 2 > sizeof head ||
            strpbrk(pct + 1, "0123456789") != NULL) {
            *why = v.why;
            return -1;
        }
        n = (size_t)(pct - s) + 1;
        memcpy(head, s, n);
        head[n] = '\0';
        imp_value_parse(head, &v);
        if (v.kind != IMP_VAL_NUMBER) {
            *why = "not a percent";
            return -1;
        }
        *note = "words after the percent ignored";
    }
    if (v.scale || v.money) {
        *why = "not a percent";
        return -1;
    }
    if (v.x100 < 0 || v.x100 > AGG_COMPLETION_MAX_X100) {
        *why = "outside 0-1000 %";
        return -1;
    }
    *x100 = (int32_t)v.x100;
    return 1;
}
