/* Markdown pipe tables as converters (pandoc, Word-to-markdown tools) write them:
 * "| a | b |" rows, "|---|:---:|" separator rows, "\|" for a literal bar, <br> inside
 * cells. A table split over pages comes out as several tables, each with its header
 * again or with an empty header row: the interpreter skips a repeated header and empty
 * rows, so the pieces read as one table. Other lines are paragraphs. */
#include "readers.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "agg/log.h"

static bool sep_cell(const char *s, size_t n) {
    size_t dashes = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            dashes++;
        else if (s[i] != ':' && s[i] != ' ')
            return false;
    }
    return dashes > 0;
}

/* One "| ... |" line into row cells; '\|' is a bar inside a cell. */
static int split_pipe_row(imp_block_t *row, const char *s, size_t n, long line,
                          char *errstr, size_t errstr_size) {
    size_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '|')
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n > i && s[n - 1] == '|' && !(n >= 2 && s[n - 2] == '\\'))
        n--;
    char *cell = malloc(n - i + 1);
    if (cell == NULL)
        return agg_fail(errstr, errstr_size, "out of memory");
    size_t c = 0;
    int col = 0;
    bool all_sep = true, any = false;
    for (size_t k = i; k <= n; k++) {
        if (k < n && s[k] == '\\' && k + 1 < n && s[k + 1] == '|') {
            cell[c++] = '|';
            k++;
            continue;
        }
        if (k < n && s[k] != '|') {
            cell[c++] = s[k];
            continue;
        }
        any = true;
        if (!sep_cell(cell, c))
            all_sep = false;
        char why[128];
        if (imp_row_add_cell(row, cell, c, col++, 1, false, why, sizeof why) != 0) {
            free(cell);
            return agg_fail(errstr, errstr_size, "line %ld: %s", line, why);
        }
        c = 0;
    }
    free(cell);
    row->sep = any && all_sep;
    return 0;
}

int imp_read_markdown(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                      size_t errstr_size) {
    doc->loose = true;
    imp_lines_t it = {.data = data, .len = len};
    const char *s;
    size_t n;
    int lrc;
    while ((lrc = imp_lines_next(&it, &s, &n, errstr, errstr_size)) > 0) {
        long line = it.line;
        size_t k = 0;
        while (k < n && s[k] == ' ')
            k++;
        if (k < n && s[k] == '|') {
            imp_block_t *row;
            if (imp_doc_add_row(doc, line, 0, 0, &row, errstr, errstr_size) != 0 ||
                split_pipe_row(row, s, n, line, errstr, errstr_size) != 0)
                return -1;
        } else if (n && imp_doc_add_para(doc, s, n, line, errstr, errstr_size) != 0) {
            return -1;
        }
    }
    return lrc;
}
