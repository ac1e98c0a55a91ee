/* The document model's storage. Growth is geometric and bounded (IMP_BLOCKS_MAX,
 * IMP_CELLS_MAX, IMP_CELL_TEXT_MAX), so no input can make it grow without limit. */
#include "table.h"
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"

/* A cleaned, owned copy of text (cleaning only shrinks text, so len + 1 bytes do). */
static char *clean_dup(const char *text, size_t len) {
    if (len > IMP_CELL_TEXT_MAX)
        len = IMP_CELL_TEXT_MAX;
    char *s = malloc(len + 1);
    if (s != NULL)
        imp_text_clean(text, len, s, len + 1);
    return s;
}

int imp_grow(void *arr, size_t *cap, size_t count, size_t elem) {
    if (count < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap > SIZE_MAX / elem)
        return -1;
    void **p = arr;
    void *n = realloc(*p, ncap * elem);
    if (n == NULL)
        return -1;
    *p = n;
    *cap = ncap;
    return 0;
}

static int grow_blocks(imp_doc_t *doc, char *errstr, size_t errstr_size) {
    if (doc->count < doc->cap)
        return 0;
    if (doc->count >= IMP_BLOCKS_MAX)
        return agg_fail(errstr, errstr_size, "more than %d paragraphs and rows",
                        IMP_BLOCKS_MAX);
    if (imp_grow(&doc->block, &doc->cap, doc->count, sizeof *doc->block) != 0)
        return agg_fail(errstr, errstr_size, "out of memory");
    return 0;
}

int imp_doc_add_para(imp_doc_t *doc, const char *text, size_t len, long line,
                     char *errstr, size_t errstr_size) {
    if (grow_blocks(doc, errstr, errstr_size) != 0)
        return -1;
    char *s = clean_dup(text, len);
    if (s == NULL)
        return agg_fail(errstr, errstr_size, "out of memory");
    imp_block_t *b = &doc->block[doc->count++];
    memset(b, 0, sizeof *b);
    b->kind = IMP_PARA;
    b->text = s;
    b->line = line;
    return 0;
}

int imp_doc_add_row(imp_doc_t *doc, long line, int table, int row, imp_block_t **out,
                    char *errstr, size_t errstr_size) {
    if (grow_blocks(doc, errstr, errstr_size) != 0)
        return -1;
    imp_block_t *b = &doc->block[doc->count++];
    memset(b, 0, sizeof *b);
    b->kind = IMP_ROW;
    b->line = line;
    b->table = table;
    b->row = row;
    *out = b;
    return 0;
}

int imp_row_add_cell(imp_block_t *row, const char *text, size_t len, int col, int span,
                     bool vmerge_cont, char *errstr, size_t errstr_size) {
    if (col < 0 || col >= IMP_CELLS_MAX || span < 1 || span > IMP_CELLS_MAX - col)
        return agg_fail(errstr, errstr_size, "more than %d columns", IMP_CELLS_MAX);
    if (imp_grow(&row->cell, &row->cap, row->ncells, sizeof *row->cell) != 0)
        return agg_fail(errstr, errstr_size, "out of memory");
    char *s = clean_dup(text, len);
    if (s == NULL)
        return agg_fail(errstr, errstr_size, "out of memory");
    row->cell[row->ncells++] =
        (imp_cell_t){.text = s, .col = col, .span = span, .vmerge_cont = vmerge_cont};
    return 0;
}

void imp_doc_free(imp_doc_t *doc) {
    for (size_t i = 0; i < doc->count; i++) {
        imp_block_t *b = &doc->block[i];
        free(b->text);
        for (size_t c = 0; c < b->ncells; c++)
            free(b->cell[c].text);
        free(b->cell);
    }
    free(doc->block);
    memset(doc, 0, sizeof *doc);
}

void imp_where(const imp_block_t *b, int cell, char *buf, size_t bufsz) {
    int n;
    if (b->table > 0)
        n = snprintf(buf, bufsz, "table %d row %d", b->table, b->row);
    else if (b->line == 0 && b->row == 0)
        n = snprintf(buf, bufsz, "page header");
    else if (b->line == 0)
        n = snprintf(buf, bufsz, "paragraph %d", b->row);
    else
        n = snprintf(buf, bufsz, "line %ld", b->line);
    if (cell >= 0 && n >= 0 && (size_t)n < bufsz)
        snprintf(buf + n, bufsz - (size_t)n, " cell %d", cell + 1);
}
