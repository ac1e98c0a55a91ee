/* Tab-separated text as copied out of Word (seeds 000, 001, 003): one line per line of
 * the copy, cells split on tabs. Word breaks a row whose cells hold several paragraphs
 * over several lines, so the document is marked loose and the interpreter joins the
 * continuation lines (convert.c). Lines of dashes separate page parts; a line without a
 * tab is a paragraph (a title, a heading, a description). */
#include "readers.h"
#include "text.h"

#include <string.h>

#include "agg/log.h"

/* Whether every non-empty cell of the line is dashes (and one is). */
static bool dash_line(const char *s, size_t n) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            any = true;
        else if (s[i] != '\t' && s[i] != ' ')
            return false;
    }
    return any;
}

int imp_read_text(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                  size_t errstr_size) {
    doc->loose = true;
    imp_lines_t it = {.data = data, .len = len};
    const char *s;
    size_t n;
    int lrc;
    while ((lrc = imp_lines_next(&it, &s, &n, errstr, errstr_size)) > 0) {
        long line = it.line;
        if (memchr(s, '\t', n) == NULL) {
            if (n && imp_doc_add_para(doc, s, n, line, errstr, errstr_size) != 0)
                return -1;
            continue;
        }
        imp_block_t *row;
        if (imp_doc_add_row(doc, line, 0, 0, &row, errstr, errstr_size) != 0)
            return -1;
        row->sep = dash_line(s, n);
        int col = 0;
        size_t a = 0;
        for (size_t k = 0; k <= n; k++) {
            if (k < n && s[k] != '\t')
                continue;
            char why[128];
            if (imp_row_add_cell(row, s + a, k - a, col++, 1, false, why, sizeof why) != 0)
                return agg_fail(errstr, errstr_size, "line %ld: %s", line, why);
            a = k + 1;
        }
    }
    return lrc;
}
