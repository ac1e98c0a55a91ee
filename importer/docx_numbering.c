/* Word list numbering, the part of it that numbered tables use: abstract lists with up
 * to nine levels (w:start, w:numFmt, w:lvlText such as "%1.%2."), list instances
 * (w:num -> w:abstractNumId) with w:startOverride, counters per abstract list (Word
 * continues a list across its instances unless one restarts it). Formats: decimal,
 * roman and letters; anything else (bullet, none) has no label. */
#include "docx_numbering.h"
#include "docx_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define LEVELS 9
#define ABSTRACT_MAX 256
#define NUM_MAX 1024

typedef enum { FMT_NONE = 0, FMT_DECIMAL, FMT_UROMAN, FMT_LROMAN, FMT_ULETTER, FMT_LLETTER } fmt_t;

typedef struct {
    int start;
    fmt_t fmt;
    char text[48];
} level_t;

typedef struct {
    int id;
    level_t lvl[LEVELS];
    int counter[LEVELS]; /* last value shown; 0 = not yet */
} abstract_t;

struct imp_numbering {
    abstract_t abs[ABSTRACT_MAX];
    size_t nabs;
    struct {
        int id, abs; /* abs: index into abs[] */
        int override[LEVELS]; /* startOverride + 1, 0 = none */
        unsigned used;        /* levels already shown through this instance */
    } num[NUM_MAX];
    size_t nnum;
    struct {
        char id[64], based_on[64];
        int num_id, ilvl; /* num_id -1: none of its own */
    } *style;
    size_t nstyles;
};

static void sattr(const xmlNode *n, char *out, size_t outsz);

/* An attribute w:NAME as an integer in [0, max], or def. */
static int iattr(const xmlNode *n, const char *name, int def, int max) {
    return (int)imp_w_int(n, name, def, max);
}

static void sattr(const xmlNode *n, char *out, size_t outsz) {
    out[0] = '\0';
    xmlChar *v = n ? xmlGetNsProp(n, (const xmlChar *)"val", (const xmlChar *)IMP_W_NS) : NULL;
    if (v != NULL) {
        snprintf(out, outsz, "%s", (const char *)v);
        xmlFree(v);
    }
}

static fmt_t fmt_of(const char *s) {
    if (strcmp(s, "decimal") == 0 || strcmp(s, "decimalZero") == 0 || s[0] == '\0')
        return FMT_DECIMAL;
    if (strcmp(s, "upperRoman") == 0)
        return FMT_UROMAN;
    if (strcmp(s, "lowerRoman") == 0)
        return FMT_LROMAN;
    if (strcmp(s, "upperLetter") == 0)
        return FMT_ULETTER;
    if (strcmp(s, "lowerLetter") == 0)
        return FMT_LLETTER;
    return FMT_NONE;
}

imp_numbering_t *imp_numbering_new(const char *xml, size_t len) {
    imp_numbering_t *n = calloc(1, sizeof *n);
    if (n == NULL || xml == NULL || len == 0 || len > (size_t)INT32_MAX)
        return n;
    xmlDoc *x = xmlReadMemory(xml, (int)len, "numbering.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (x == NULL)
        return n;
    const xmlNode *root = xmlDocGetRootElement(x);
    for (const xmlNode *c = root ? root->children : NULL; c; c = c->next) {
        if (imp_w_is(c, "abstractNum") && n->nabs < ABSTRACT_MAX) {
            size_t a = n->nabs++;
            n->abs[a].id = iattr(c, "abstractNumId", -1, 1 << 30);
            for (int l = 0; l < LEVELS; l++)
                n->abs[a].lvl[l] = (level_t){.start = 1, .fmt = FMT_DECIMAL};
            for (const xmlNode *lv = c->children; lv; lv = lv->next) {
                if (!imp_w_is(lv, "lvl"))
                    continue;
                int il = iattr(lv, "ilvl", -1, LEVELS - 1);
                if (il < 0)
                    continue;
                level_t *L = &n->abs[a].lvl[il];
                L->start = iattr(imp_w_child(lv, "start"), "val", 1, 1 << 20);
                char f[32];
                sattr(imp_w_child(lv, "numFmt"), f, sizeof f);
                L->fmt = fmt_of(f);
                sattr(imp_w_child(lv, "lvlText"), L->text, sizeof L->text);
            }
        } else if (imp_w_is(c, "num") && n->nnum < NUM_MAX) {
            size_t k = n->nnum++;
            n->num[k].id = iattr(c, "numId", -1, 1 << 30);
            n->num[k].abs = -1;
            int aid = iattr(imp_w_child(c, "abstractNumId"), "val", -1, 1 << 30);
            for (size_t a = 0; a < n->nabs; a++)
                if (n->abs[a].id == aid)
                    n->num[k].abs = (int)a;
            for (const xmlNode *o = c->children; o; o = o->next) {
                if (!imp_w_is(o, "lvlOverride"))
                    continue;
                int il = iattr(o, "ilvl", -1, LEVELS - 1);
                int st = iattr(imp_w_child(o, "startOverride"), "val", -1, 1 << 20);
                if (il >= 0 && st >= 0)
                    n->num[k].override[il] = st + 1;
            }
        }
    }
    xmlFreeDoc(x);
    return n;
}

void imp_numbering_free(imp_numbering_t *n) {
    if (n)
        free(n->style);
    free(n);
}

#define STYLES_MAX 2048

int imp_numbering_add_styles(imp_numbering_t *n, const char *xml, size_t len) {
    if (n == NULL || xml == NULL || len == 0 || len > (size_t)INT32_MAX)
        return 0;
    xmlDoc *x = xmlReadMemory(xml, (int)len, "styles.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (x == NULL)
        return 0;
    int rc = 0;
    const xmlNode *root = xmlDocGetRootElement(x);
    for (const xmlNode *c = root ? root->children : NULL; c && rc == 0; c = c->next) {
        if (!imp_w_is(c, "style") || n->nstyles >= STYLES_MAX)
            continue;
        if (n->style == NULL && (n->style = calloc(STYLES_MAX, sizeof *n->style)) == NULL) {
            rc = -1;
            break;
        }
        xmlChar *id = xmlGetNsProp(c, (const xmlChar *)"styleId", (const xmlChar *)IMP_W_NS);
        if (id == NULL)
            continue;
        size_t k = n->nstyles++;
        snprintf(n->style[k].id, sizeof n->style[k].id, "%s", (const char *)id);
        xmlFree(id);
        sattr(imp_w_child(c, "basedOn"), n->style[k].based_on, sizeof n->style[k].based_on);
        const xmlNode *np = imp_w_child(imp_w_child(c, "pPr"), "numPr");
        n->style[k].num_id = np ? iattr(imp_w_child(np, "numId"), "val", -1, 1 << 30) : -1;
        n->style[k].ilvl = np ? iattr(imp_w_child(np, "ilvl"), "val", 0, LEVELS - 1) : 0;
    }
    xmlFreeDoc(x);
    return rc;
}

bool imp_numbering_style(const imp_numbering_t *n, const char *style_id, int *num_id,
                         int *ilvl) {
    /* follow w:basedOn a bounded number of steps (a cycle in a broken file ends) */
    for (int depth = 0; n && n->style && style_id[0] && depth < 10; depth++) {
        size_t k = 0;
        while (k < n->nstyles && strcmp(n->style[k].id, style_id) != 0)
            k++;
        if (k == n->nstyles)
            return false;
        if (n->style[k].num_id >= 0) {
            *num_id = n->style[k].num_id;
            *ilvl = n->style[k].ilvl;
            return *num_id > 0;
        }
        style_id = n->style[k].based_on;
    }
    return false;
}

static void format_value(int v, fmt_t f, char *out, size_t outsz) {
    static const char *const roman[][2] = {{"M", "m"}, {"CM", "cm"}, {"D", "d"}, {"CD", "cd"},
                                           {"C", "c"}, {"XC", "xc"}, {"L", "l"}, {"XL", "xl"},
                                           {"X", "x"}, {"IX", "ix"}, {"V", "v"}, {"IV", "iv"},
                                           {"I", "i"}};
    static const int rv[] = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
    out[0] = '\0';
    if (f == FMT_DECIMAL || v <= 0 || (f != FMT_ULETTER && f != FMT_LLETTER && v > 3999)) {
        snprintf(out, outsz, "%d", v);
    } else if (f == FMT_UROMAN || f == FMT_LROMAN) {
        size_t o = 0;
        for (size_t i = 0; i < sizeof rv / sizeof rv[0]; i++)
            while (v >= rv[i] && o + 3 < outsz) {
                o += (size_t)snprintf(out + o, outsz - o, "%s", roman[i][f == FMT_LROMAN]);
                v -= rv[i];
            }
    } else {
        char c = (char)((f == FMT_ULETTER ? 'A' : 'a') + (v - 1) % 26);
        int reps = (v - 1) / 26 + 1;
        for (int i = 0; i < reps && i + 1 < (int)outsz && i < 8; i++)
            out[i] = c, out[i + 1] = '\0';
    }
}

void imp_numbering_next(imp_numbering_t *n, int num_id, int ilvl, char *out, size_t outsz) {
    out[0] = '\0';
    if (n == NULL || ilvl < 0 || ilvl >= LEVELS || outsz == 0)
        return;
    size_t k = 0;
    while (k < n->nnum && n->num[k].id != num_id)
        k++;
    if (k == n->nnum || n->num[k].abs < 0)
        return;
    abstract_t *a = &n->abs[n->num[k].abs];
    /* a restarted instance begins at its override the first time it shows a level */
    if (n->num[k].override[ilvl] && !(n->num[k].used & (1u << ilvl)))
        a->counter[ilvl] = n->num[k].override[ilvl] - 1; /* the startOverride value */
    else if (a->counter[ilvl] == 0)
        a->counter[ilvl] = a->lvl[ilvl].start;
    else
        a->counter[ilvl]++;
    n->num[k].used |= 1u << ilvl;
    for (int l = ilvl + 1; l < LEVELS; l++)
        a->counter[l] = 0;
    if (a->lvl[ilvl].fmt == FMT_NONE)
        return;
    size_t o = 0;
    for (const char *p = a->lvl[ilvl].text; *p && o + 1 < outsz; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '9') {
            int l = p[1] - '1';
            int v = a->counter[l] ? a->counter[l] : a->lvl[l].start;
            char num[24];
            format_value(v, a->lvl[l].fmt, num, sizeof num);
            int w = snprintf(out + o, outsz - o, "%s", num);
            if (w < 0 || (size_t)w >= outsz - o)
                break;
            o += (size_t)w;
            p++;
        } else {
            out[o++] = *p;
            out[o] = '\0';
        }
    }
}
