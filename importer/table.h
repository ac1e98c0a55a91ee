/* The one table model every reader produces (docx, Word text export, markdown, CSV):
 * a document is a sequence of blocks, each a paragraph (text between tables) or a
 * table row (cells with their grid column, merge span and source position). The
 * interpreter (convert.c) never knows which reader a block came from; it only uses
 * `loose` to know that row boundaries may be broken (text copied out of Word). */
#ifndef IMP_TABLE_H
#define IMP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds that keep a hostile document from exhausting memory. */
#define IMP_INPUT_MAX (64u * 1024 * 1024) /* bytes of one input file */
#define IMP_CELLS_MAX 64                  /* grid columns of one table */
#define IMP_CELL_TEXT_MAX (64 * 1024)     /* bytes of one cell after merging lines */
#define IMP_BLOCKS_MAX 1000000            /* paragraphs + rows of one document */

typedef struct {
    char *text;       /* owned, cleaned (tags and markup removed), NUL-terminated */
    int col;          /* first grid column, 0-based */
    int span;         /* grid columns covered (docx gridSpan), >= 1 */
    bool vmerge_cont; /* docx vMerge continuation: the cell above spans into this one */
} imp_cell_t;

typedef enum { IMP_PARA = 0, IMP_ROW = 1 } imp_block_kind_t;

typedef struct {
    imp_block_kind_t kind;
    char *text;         /* IMP_PARA: owned, cleaned */
    imp_cell_t *cell;   /* IMP_ROW: owned array, in grid order */
    size_t ncells, cap;
    long line;          /* text formats: 1-based source line; 0 for docx */
    int table, row;     /* docx: 1-based table and row within it; a paragraph: table 0
                         * and row = its number in the body; 0 for text */
    bool sep;           /* a separator row (dashes, markdown |---|) */
} imp_block_t;

typedef struct {
    imp_block_t *block;
    size_t count, cap;
    bool loose; /* rows may be broken over several lines (Word text export) */
} imp_doc_t;

/* All return 0, or -1 with the reason in errstr (only memory or a bound can fail).
 * Text is copied; the document owns everything it holds. */
int imp_doc_add_para(imp_doc_t *doc, const char *text, size_t len, long line,
                     char *errstr, size_t errstr_size);
/* Appends an empty row; *out points to it until the next add. */
int imp_doc_add_row(imp_doc_t *doc, long line, int table, int row, imp_block_t **out,
                    char *errstr, size_t errstr_size);
/* Appends a cell to row at grid column col; text is cleaned (imp_text_clean). */
int imp_row_add_cell(imp_block_t *row, const char *text, size_t len, int col, int span,
                     bool vmerge_cont, char *errstr, size_t errstr_size);
void imp_doc_free(imp_doc_t *doc);

/* Makes room for one more element in the array *arr of *cap elements of elem bytes
 * holding count: doubles the capacity (first 64). Returns 0, or -1 on out of memory
 * (the array is unchanged). */
int imp_grow(void *arr, size_t *cap, size_t count, size_t elem);

/* "line 12", "table 2 row 5" or "paragraph 3" (and " cell 3" when cell >= 0, 1-based
 * grid column). */
void imp_where(const imp_block_t *b, int cell, char *buf, size_t bufsz);

#endif
