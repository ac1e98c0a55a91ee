/* .docx: word/document.xml read with libzip and parsed with libxml2 (no network, no
 * entity expansion). The body is walked in order: each w:p outside a table is a
 * paragraph; each w:tbl gives its rows, each w:tc a cell at its grid column with
 * w:gridSpan as span and w:vMerge (without val="restart") as a continuation of the
 * cell above. A cell's paragraphs are joined with a line break, which the cleaner turns
 * into a space. Nested tables contribute their text to the enclosing cell. */
#include "readers.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "agg/log.h"
#include "docx_numbering.h"
#include "docx_xml.h"

/* document.xml of a large report is a few MB; this bounds a zip bomb. */
#define DOCX_XML_MAX (200u * 1024 * 1024)

/* w:val of an element; NULL when absent. The caller frees with xmlFree. */
static xmlChar *w_val(const xmlNode *n) {
    return xmlGetNsProp(n, (const xmlChar *)"val", (const xmlChar *)IMP_W_NS);
}

/* w:val of n, or NULL (also for n NULL). The caller frees with xmlFree. */
static xmlChar *w_val_of(const xmlNode *n) { return n ? w_val(n) : NULL; }

/* Growable text buffer bounded by IMP_CELL_TEXT_MAX: text past it is dropped (the
 * cell text is cut there anyway). */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n) {
    if (b->oom || b->len + n > IMP_CELL_TEXT_MAX)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* What the walk needs besides the XML: the list numbering of the document. */
typedef struct {
    imp_numbering_t *numbering;
} docx_t;

static void collect_text(docx_t *d, const xmlNode *n, buf_t *b);

/* A paragraph's text, with the label Word shows for an automatically numbered one
 * (w:pPr/w:numPr: "3.2.1." in a Д/д cell, "Зорилт 4." before a heading). */
static void para_text(docx_t *d, const xmlNode *p, buf_t *b) {
    const xmlNode *ppr = imp_w_child(p, "pPr");
    const xmlNode *np = imp_w_child(ppr, "numPr");
    int ilvl = 0, num_id = 0;
    if (np != NULL) {
        ilvl = (int)imp_w_int(imp_w_child(np, "ilvl"), "val", 0, 8);
        num_id = (int)imp_w_int(imp_w_child(np, "numId"), "val", 0, 1 << 30);
    } else {
        /* numbering through the paragraph's style ("Heading 1" numbered by Word) */
        xmlChar *st = w_val_of(imp_w_child(ppr, "pStyle"));
        if (st != NULL) {
            if (!imp_numbering_style(d->numbering, (const char *)st, &num_id, &ilvl))
                num_id = 0;
            xmlFree(st);
        }
    }
    {
        char label[128];
        if (num_id > 0) {
            imp_numbering_next(d->numbering, num_id, ilvl, label, sizeof label);
            if (label[0]) {
                buf_add(b, label, strlen(label));
                buf_add(b, " ", 1);
            }
        }
    }
    collect_text(d, p, b);
}

/* Text of everything under n: w:t runs, w:tab and w:br as spaces, w:p ends as line
 * breaks. Deleted text (w:delText) is not part of the document. */
static void collect_text(docx_t *d, const xmlNode *n, buf_t *b) {
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (imp_w_is(c, "t")) {
            xmlChar *t = xmlNodeGetContent(c);
            if (t != NULL) {
                buf_add(b, (const char *)t, strlen((const char *)t));
                xmlFree(t);
            } else {
                b->oom = true;
            }
        } else if (imp_w_is(c, "tab") || imp_w_is(c, "br") || imp_w_is(c, "cr")) {
            buf_add(b, " ", 1);
        } else if (imp_w_is(c, "noBreakHyphen")) {
            buf_add(b, "-", 1);
        } else if (strcmp((const char *)c->name, "Fallback") == 0) {
            /* mc:AlternateContent holds the same text twice (Choice and Fallback) */
            continue;
        } else if (imp_w_is(c, "p")) {
            if (b->len)
                buf_add(b, "\n", 1);
            para_text(d, c, b);
        } else if (!imp_w_is(c, "delText") && !imp_w_is(c, "instrText") && !imp_w_is(c, "pPr")) {
            collect_text(d, c, b);
        }
    }
}

static int read_table(docx_t *d, const xmlNode *tbl, int tno, imp_doc_t *doc, char *errstr,
                      size_t errstr_size) {
    int rno = 0;
    for (const xmlNode *tr = tbl->children; tr; tr = tr->next) {
        if (!imp_w_is(tr, "tr"))
            continue;
        rno++;
        imp_block_t *row;
        if (imp_doc_add_row(doc, 0, tno, rno, &row, errstr, errstr_size) != 0)
            return -1;
        /* Grid columns left empty before the first cell (w:trPr/w:gridBefore). */
        int col = (int)imp_w_int(imp_w_child(imp_w_child(tr, "trPr"), "gridBefore"), "val", 0,
                                 IMP_CELLS_MAX);
        for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
            if (!imp_w_is(tc, "tc"))
                continue;
            const xmlNode *pr = imp_w_child(tc, "tcPr");
            int span = (int)imp_w_int(imp_w_child(pr, "gridSpan"), "val", 1, IMP_CELLS_MAX);
            if (span < 1)
                span = 1;
            bool cont = false;
            const xmlNode *vm = imp_w_child(pr, "vMerge");
            if (vm != NULL) {
                xmlChar *v = w_val(vm);
                cont = v == NULL || strcmp((const char *)v, "restart") != 0;
                if (v != NULL)
                    xmlFree(v);
            }
            buf_t b = {0};
            collect_text(d, tc, &b);
            if (b.oom) {
                free(b.s);
                return agg_fail(errstr, errstr_size, "out of memory");
            }
            char why[128];
            int rc = imp_row_add_cell(row, b.s ? b.s : "", b.len, col, span, cont, why,
                                      sizeof why);
            free(b.s);
            if (rc != 0)
                return agg_fail(errstr, errstr_size, "table %d row %d: %s", tno, rno, why);
            col += span;
        }
    }
    return 0;
}

/* Paragraphs and tables of the body in document order; content controls (w:sdt) and
 * their w:sdtContent are looked into, since Word wraps whole tables in them. */
static int walk(docx_t *d, const xmlNode *n, int *tno, int *pno, imp_doc_t *doc,
                char *errstr, size_t errstr_size) {
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (imp_w_is(c, "p")) {
            buf_t b = {0};
            para_text(d, c, &b);
            int rc = 0;
            ++*pno; /* body paragraphs are counted as Word shows them, empty ones too */
            if (b.oom)
                rc = agg_fail(errstr, errstr_size, "out of memory");
            else if (b.len && (rc = imp_doc_add_para(doc, b.s, b.len, 0, errstr, errstr_size)) == 0)
                doc->block[doc->count - 1].row = *pno;
            free(b.s);
            if (rc != 0)
                return -1;
        } else if (imp_w_is(c, "tbl")) {
            if (read_table(d, c, ++*tno, doc, errstr, errstr_size) != 0)
                return -1;
        } else if (imp_w_is(c, "sdt") || imp_w_is(c, "sdtContent") || imp_w_is(c, "customXml")) {
            if (walk(d, c, tno, pno, doc, errstr, errstr_size) != 0)
                return -1;
        }
    }
    return 0;
}

/* One part of the zip into a malloc'ed, NUL-terminated buffer (caller frees). A part
 * that is missing gives NULL with *missing set (errstr untouched); any other failure
 * NULL with the reason in errstr. */
static char *read_part(zip_t *za, const char *name, size_t *out_len, bool *missing,
                       char *errstr, size_t errstr_size) {
    *missing = false;
    zip_int64_t idx = zip_name_locate(za, name, 0);
    if (idx < 0) {
        *missing = true;
        return NULL;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        agg_fail(errstr, errstr_size, "%s: %s", name, zip_strerror(za));
        return NULL;
    }
    if (st.size > DOCX_XML_MAX) {
        agg_fail(errstr, errstr_size, "%s: larger than %u bytes", name, DOCX_XML_MAX);
        return NULL;
    }
    char *xml = malloc((size_t)st.size + 1);
    if (xml == NULL) {
        agg_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (zf == NULL) {
        agg_fail(errstr, errstr_size, "%s: %s", name, zip_strerror(za));
        free(xml);
        return NULL;
    }
    /* Read up to the declared size, and check that it was the real size. */
    zip_uint64_t total = 0;
    zip_int64_t got = 0;
    while (total < st.size) {
        got = zip_fread(zf, xml + total, st.size - total);
        if (got <= 0)
            break;
        total += (zip_uint64_t)got;
    }
    bool ok = got >= 0 && total == st.size;
    if (!ok)
        agg_fail(errstr, errstr_size, "%s: %s", name,
                 got < 0 ? zip_file_strerror(zf) : "shorter than its size");
    if (zip_fclose(zf) != 0 && ok) {
        agg_fail(errstr, errstr_size, "%s: damaged (CRC)", name);
        ok = false;
    }
    if (!ok) {
        free(xml);
        return NULL;
    }
    xml[st.size] = '\0';
    *out_len = (size_t)st.size;
    return xml;
}

/* The parts of the .docx this reader uses; only document.xml is required. */
enum { PART_DOCUMENT, PART_NUMBERING, PART_STYLES, PART_HEADER1, PART__COUNT = PART_HEADER1 + 3 };
static const char *const part_names[PART__COUNT] = {
    "word/document.xml", "word/numbering.xml", "word/styles.xml",
    "word/header1.xml",  "word/header2.xml",   "word/header3.xml"};

typedef struct {
    char *xml[PART__COUNT]; /* owned; NULL when the part is absent */
    size_t len[PART__COUNT];
} parts_t;

static void parts_free(parts_t *p) {
    for (int i = 0; i < PART__COUNT; i++)
        free(p->xml[i]);
    memset(p, 0, sizeof *p);
}

/* The parts out of the .docx in memory. Returns 0, or -1 with the reason in errstr
 * (p is then empty). */
static int read_parts(const char *data, size_t len, parts_t *p, char *errstr,
                      size_t errstr_size) {
    memset(p, 0, sizeof *p);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (src == NULL) {
        agg_fail(errstr, errstr_size, "not a zip file: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (za == NULL) {
        agg_fail(errstr, errstr_size, "not a .docx (zip): %s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return -1;
    }
    zip_error_fini(&ze);
    int rc = 0;
    for (int i = 0; i < PART__COUNT && rc == 0; i++) {
        bool missing;
        p->xml[i] = read_part(za, part_names[i], &p->len[i], &missing, errstr, errstr_size);
        if (p->xml[i] == NULL && (!missing || i == PART_DOCUMENT)) {
            if (missing)
                agg_fail(errstr, errstr_size, "not a .docx: no word/document.xml in the zip");
            rc = -1;
        }
    }
    zip_discard(za); /* read-only: nothing to write back; frees src too */
    if (rc != 0)
        parts_free(p);
    return rc;
}

/* The paragraphs of the page headers (word/headerN.xml), before the body: the office's
 * name is often printed there and nowhere else. Tables in a header are not read. A
 * header that does not parse is left out. */
static int read_page_headers(docx_t *d, const parts_t *p, imp_doc_t *doc, char *errstr,
                             size_t errstr_size) {
    for (int i = PART_HEADER1; i < PART__COUNT; i++) {
        if (p->xml[i] == NULL || p->len[i] > (size_t)INT32_MAX)
            continue;
        xmlDoc *x = xmlReadMemory(p->xml[i], (int)p->len[i], part_names[i], NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (x == NULL)
            continue;
        int rc = 0;
        const xmlNode *root = xmlDocGetRootElement(x);
        for (const xmlNode *c = root ? root->children : NULL; c && rc == 0; c = c->next) {
            if (!imp_w_is(c, "p"))
                continue;
            buf_t b = {0};
            para_text(d, c, &b);
            if (b.oom)
                rc = agg_fail(errstr, errstr_size, "out of memory");
            else if (b.len)
                rc = imp_doc_add_para(doc, b.s, b.len, 0, errstr, errstr_size);
            free(b.s); /* row 0 of a paragraph marks the page header (imp_where) */
        }
        xmlFreeDoc(x);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int imp_read_docx(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                  size_t errstr_size) {
    doc->loose = false;
    parts_t p;
    if (read_parts(data, len, &p, errstr, errstr_size) != 0)
        return -1;
    docx_t d = {.numbering = imp_numbering_new(p.xml[PART_NUMBERING], p.len[PART_NUMBERING])};
    if (d.numbering == NULL ||
        imp_numbering_add_styles(d.numbering, p.xml[PART_STYLES], p.len[PART_STYLES]) != 0) {
        parts_free(&p);
        imp_numbering_free(d.numbering);
        return agg_fail(errstr, errstr_size, "out of memory");
    }
    if (p.len[PART_DOCUMENT] > (size_t)INT32_MAX) {
        parts_free(&p);
        imp_numbering_free(d.numbering);
        return agg_fail(errstr, errstr_size, "word/document.xml: too large");
    }
    if (read_page_headers(&d, &p, doc, errstr, errstr_size) != 0) {
        parts_free(&p);
        imp_numbering_free(d.numbering);
        return -1;
    }
    xmlDoc *x = xmlReadMemory(p.xml[PART_DOCUMENT], (int)p.len[PART_DOCUMENT],
                              "word/document.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    parts_free(&p);
    if (x == NULL) {
        const xmlError *e = xmlGetLastError();
        imp_numbering_free(d.numbering);
        return agg_fail(errstr, errstr_size, "word/document.xml: not well-formed XML%s%.200s",
                        e && e->message ? ": " : "", e && e->message ? e->message : "");
    }
    const xmlNode *root = xmlDocGetRootElement(x);
    const xmlNode *body = root && imp_w_is(root, "document") ? imp_w_child(root, "body") : NULL;
    int rc;
    if (body == NULL) {
        rc = agg_fail(errstr, errstr_size, "word/document.xml: no w:document/w:body");
    } else {
        int tno = 0, pno = 0;
        rc = walk(&d, body, &tno, &pno, doc, errstr, errstr_size);
    }
    xmlFreeDoc(x);
    imp_numbering_free(d.numbering);
    return rc;
}
