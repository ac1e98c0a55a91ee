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

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
/* document.xml of a large report is a few MB; this bounds a zip bomb. */
#define DOCX_XML_MAX (200u * 1024 * 1024)

static bool is_w(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, W_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child_w(const xmlNode *n, const char *name) {
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_w(c, name))
            return c;
    return NULL;
}

/* w:val of an element; NULL when absent. The caller frees with xmlFree. */
static xmlChar *w_val(const xmlNode *n) {
    return xmlGetNsProp(n, (const xmlChar *)"val", (const xmlChar *)W_NS);
}

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

/* Text of everything under n: w:t runs, w:tab and w:br as spaces, w:p ends as line
 * breaks. Deleted text (w:delText) is not part of the document. */
static void collect_text(const xmlNode *n, buf_t *b) {
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_w(c, "t")) {
            xmlChar *t = xmlNodeGetContent(c);
            if (t != NULL) {
                buf_add(b, (const char *)t, strlen((const char *)t));
                xmlFree(t);
            } else {
                b->oom = true;
            }
        } else if (is_w(c, "tab") || is_w(c, "br") || is_w(c, "cr")) {
            buf_add(b, " ", 1);
        } else if (is_w(c, "p")) {
            if (b->len)
                buf_add(b, "\n", 1);
            collect_text(c, b);
        } else if (!is_w(c, "delText") && !is_w(c, "instrText")) {
            collect_text(c, b);
        }
    }
}

static long attr_int(const xmlNode *n, long def, long max) {
    if (n == NULL)
        return def;
    xmlChar *v = w_val(n);
    if (v == NULL)
        return def;
    char *end;
    long x = strtol((const char *)v, &end, 10);
    bool ok = end != (char *)v && *end == '\0' && x >= 0 && x <= max;
    xmlFree(v);
    return ok ? x : def;
}

static int read_table(const xmlNode *tbl, int tno, imp_doc_t *doc, char *errstr,
                      size_t errstr_size) {
    int rno = 0;
    for (const xmlNode *tr = tbl->children; tr; tr = tr->next) {
        if (!is_w(tr, "tr"))
            continue;
        rno++;
        imp_block_t *row;
        if (imp_doc_add_row(doc, 0, tno, rno, &row, errstr, errstr_size) != 0)
            return -1;
        /* Grid columns left empty before the first cell (w:trPr/w:gridBefore). */
        int col = (int)attr_int(child_w(child_w(tr, "trPr"), "gridBefore"), 0, IMP_CELLS_MAX);
        for (const xmlNode *tc = tr->children; tc; tc = tc->next) {
            if (!is_w(tc, "tc"))
                continue;
            const xmlNode *pr = child_w(tc, "tcPr");
            int span = (int)attr_int(child_w(pr, "gridSpan"), 1, IMP_CELLS_MAX);
            if (span < 1)
                span = 1;
            bool cont = false;
            const xmlNode *vm = child_w(pr, "vMerge");
            if (vm != NULL) {
                xmlChar *v = w_val(vm);
                cont = v == NULL || strcmp((const char *)v, "restart") != 0;
                if (v != NULL)
                    xmlFree(v);
            }
            buf_t b = {0};
            collect_text(tc, &b);
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
static int walk(const xmlNode *n, int *tno, int *pno, imp_doc_t *doc, char *errstr,
                size_t errstr_size) {
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (is_w(c, "p")) {
            buf_t b = {0};
            collect_text(c, &b);
            int rc = 0;
            ++*pno; /* body paragraphs are counted as Word shows them, empty ones too */
            if (b.oom)
                rc = agg_fail(errstr, errstr_size, "out of memory");
            else if (b.len && (rc = imp_doc_add_para(doc, b.s, b.len, 0, errstr, errstr_size)) == 0)
                doc->block[doc->count - 1].row = *pno;
            free(b.s);
            if (rc != 0)
                return -1;
        } else if (is_w(c, "tbl")) {
            if (read_table(c, ++*tno, doc, errstr, errstr_size) != 0)
                return -1;
        } else if (is_w(c, "sdt") || is_w(c, "sdtContent") || is_w(c, "customXml")) {
            if (walk(c, tno, pno, doc, errstr, errstr_size) != 0)
                return -1;
        }
    }
    return 0;
}

/* word/document.xml out of the zip into a malloc'ed buffer (caller frees). */
static char *read_document_xml(const char *data, size_t len, size_t *out_len, char *errstr,
                               size_t errstr_size) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (src == NULL) {
        agg_fail(errstr, errstr_size, "not a zip file: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return NULL;
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (za == NULL) {
        agg_fail(errstr, errstr_size, "not a .docx (zip): %s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return NULL;
    }
    zip_error_fini(&ze);
    char *xml = NULL;
    zip_int64_t idx = zip_name_locate(za, "word/document.xml", 0);
    zip_stat_t st;
    zip_stat_init(&st);
    if (idx < 0) {
        agg_fail(errstr, errstr_size, "not a .docx: no word/document.xml in the zip");
    } else if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) != 0 ||
               !(st.valid & ZIP_STAT_SIZE)) {
        agg_fail(errstr, errstr_size, "word/document.xml: %s", zip_strerror(za));
    } else if (st.size > DOCX_XML_MAX) {
        agg_fail(errstr, errstr_size, "word/document.xml: larger than %u bytes", DOCX_XML_MAX);
    } else if ((xml = malloc((size_t)st.size + 1)) == NULL) {
        agg_fail(errstr, errstr_size, "out of memory");
    } else {
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
        zip_int64_t got = -1;
        if (zf == NULL) {
            agg_fail(errstr, errstr_size, "word/document.xml: %s", zip_strerror(za));
        } else {
            /* Read up to the declared size, and check that it was the real size. */
            zip_uint64_t total = 0;
            while (total < st.size) {
                got = zip_fread(zf, xml + total, st.size - total);
                if (got <= 0)
                    break;
                total += (zip_uint64_t)got;
            }
            if (got < 0 || total != st.size)
                agg_fail(errstr, errstr_size, "word/document.xml: %s",
                         got < 0 ? zip_file_strerror(zf) : "shorter than its size");
            else
                got = (zip_int64_t)total;
            if (zip_fclose(zf) != 0 && got >= 0) {
                agg_fail(errstr, errstr_size, "word/document.xml: damaged (CRC)");
                got = -1;
            }
        }
        if (got < 0 || (zip_uint64_t)got != st.size) {
            free(xml);
            xml = NULL;
        } else {
            xml[st.size] = '\0';
            *out_len = (size_t)st.size;
        }
    }
    zip_discard(za); /* read-only: nothing to write back; frees src too */
    return xml;
}

int imp_read_docx(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                  size_t errstr_size) {
    doc->loose = false;
    size_t xlen = 0;
    char *xml = read_document_xml(data, len, &xlen, errstr, errstr_size);
    if (xml == NULL)
        return -1;
    if (xlen > (size_t)INT32_MAX) {
        free(xml);
        return agg_fail(errstr, errstr_size, "word/document.xml: too large");
    }
    xmlDoc *x = xmlReadMemory(xml, (int)xlen, "word/document.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    free(xml);
    if (x == NULL) {
        const xmlError *e = xmlGetLastError();
        return agg_fail(errstr, errstr_size, "word/document.xml: not well-formed XML%s%s",
                        e && e->message ? ": " : "", e && e->message ? e->message : "");
    }
    const xmlNode *root = xmlDocGetRootElement(x);
    const xmlNode *body = root && is_w(root, "document") ? child_w(root, "body") : NULL;
    int rc;
    if (body == NULL) {
        rc = agg_fail(errstr, errstr_size, "word/document.xml: no w:document/w:body");
    } else {
        int tno = 0, pno = 0;
        rc = walk(body, &tno, &pno, doc, errstr, errstr_size);
    }
    xmlFreeDoc(x);
    return rc;
}
