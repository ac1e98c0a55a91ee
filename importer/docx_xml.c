/* WordprocessingML helpers: elements are matched by namespace and local name, so a
 * document with another prefix than "w:" still reads. */
#include "docx_xml.h"

#include <stdlib.h>
#include <string.h>

bool imp_w_is(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, IMP_W_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

const xmlNode *imp_w_child(const xmlNode *n, const char *name) {
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (imp_w_is(c, name))
            return c;
    return NULL;
}

long imp_w_int(const xmlNode *n, const char *attr, long def, long max) {
    if (n == NULL)
        return def;
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)attr, (const xmlChar *)IMP_W_NS);
    if (v == NULL)
        return def;
    char *end;
    long x = strtol((const char *)v, &end, 10);
    bool ok = end != (char *)v && *end == '\0' && x >= 0 && x <= max;
    xmlFree(v);
    return ok ? x : def;
}
