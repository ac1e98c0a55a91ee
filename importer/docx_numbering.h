/* Word's automatic list numbering (word/numbering.xml): a Д/д column or a heading
 * numbered by Word holds no digits in document.xml, only w:numPr; the label Word shows
 * ("3.2.1.", "Зорилт 4.") is computed here so the interpreter sees it as text. */
#ifndef IMP_DOCX_NUMBERING_H
#define IMP_DOCX_NUMBERING_H

#include <stdbool.h>
#include <stddef.h>

typedef struct imp_numbering imp_numbering_t;

/* Parses numbering.xml (xml NULL or len 0: the document has no lists). Returns NULL on
 * out of memory; a malformed part gives an empty table (labels ""), never an error,
 * since the table text is still readable without them. The caller frees. */
imp_numbering_t *imp_numbering_new(const char *xml, size_t len);
void imp_numbering_free(imp_numbering_t *n);

/* Adds the list numbering that paragraph styles carry (styles.xml: w:style with
 * w:pPr/w:numPr, inherited through w:basedOn), e.g. a "Heading 1" numbered
 * "Зорилт %1.". A missing or malformed part adds nothing. Returns 0, -1 on out of
 * memory. */
int imp_numbering_add_styles(imp_numbering_t *n, const char *xml, size_t len);
/* The list of a paragraph style: true with *num_id, *ilvl when it has one. */
bool imp_numbering_style(const imp_numbering_t *n, const char *style_id, int *num_id,
                         int *ilvl);

/* The label of the next paragraph of list num_id at level ilvl, in document order:
 * advances that level, restarts the deeper ones. "" for bullets, unknown lists or
 * levels. */
void imp_numbering_next(imp_numbering_t *n, int num_id, int ilvl, char *out, size_t outsz);

#endif
