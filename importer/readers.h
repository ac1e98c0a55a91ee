/* The readers: each turns one input format into the table model (table.h). Each takes
 * the whole input in memory (data, len), fills doc, and returns 0 or -1 with the reason
 * in errstr. The caller owns doc (imp_doc_free) also after a failure. */
#ifndef IMP_READERS_H
#define IMP_READERS_H

#include <stddef.h>

#include "table.h"

typedef enum {
    IMP_FMT_AUTO = 0,
    IMP_FMT_DOCX,
    IMP_FMT_TEXT,     /* tab-separated rows copied out of Word, TSV */
    IMP_FMT_MARKDOWN, /* pipe tables */
    IMP_FMT_CSV,      /* RFC 4180 with Mongolian headers */
} imp_format_t;

/* "docx", "text", "markdown", "csv" -> format; -1 when unknown. */
int imp_format_parse(const char *name, imp_format_t *out);
const char *imp_format_name(imp_format_t f);
/* From the content: a zip signature is docx; pipe-table lines with a |---| separator
 * are markdown; tab-separated lines are text; comma-separated lines are CSV. */
imp_format_t imp_format_detect(const char *data, size_t len);

int imp_read_docx(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                  size_t errstr_size);
int imp_read_text(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                  size_t errstr_size);
int imp_read_markdown(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                      size_t errstr_size);
int imp_read_csv(const char *data, size_t len, imp_doc_t *doc, char *errstr,
                 size_t errstr_size);

#endif
