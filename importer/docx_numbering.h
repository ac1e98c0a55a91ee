/* Word's automatic list numbering (word/numbering.xml): a Д/д column or a heading
 * numbered by Word holds no digits in document.xml, only w:numPr; the label Word shows
 * ("3.2.1.", "Зорилт 4.") is computed here so the interpreter sees it as text. */
#ifndef IMP_DOCX_NUMBERING_H
#define IMP_DOCX_NUMBERING_H

#include <stddef.h>

typedef struct imp_numbering imp_numbering_t;

/* Parses numbering.xml (xml NULL or len 0: the document has no lists). Returns NULL on
 * out of memory; a malformed part gives an empty table (labels ""), never an error,
 * since the table text is still readable without them. The caller frees. */
imp_numbering_t *imp_numbering_new(const char *xml, size_t len);
void imp_numbering_free(imp_numbering_t *n);

/* The label of the next paragraph of list num_id at level ilvl, in document order:
 * advances that level, restarts the deeper ones. "" for bullets, unknown lists or
 * levels. */
void imp_numbering_next(imp_numbering_t *n, int num_id, int ilvl, char *out, size_t outsz);

#endif
