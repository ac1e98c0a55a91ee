/* WordprocessingML element helpers shared by docx.c and docx_numbering.c. */
#ifndef IMP_DOCX_XML_H
#define IMP_DOCX_XML_H

#include <stdbool.h>

#include <libxml/tree.h>

#define IMP_W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

/* Whether n is the element w:name. */
bool imp_w_is(const xmlNode *n, const char *name);
/* The first child element w:name of n (n may be NULL), or NULL. */
const xmlNode *imp_w_child(const xmlNode *n, const char *name);
/* The attribute w:attr of n as an integer in [0, max], else def (also for n NULL). */
long imp_w_int(const xmlNode *n, const char *attr, long def, long max);

#endif
