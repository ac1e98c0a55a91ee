/* Comma-separated lists: regions_missing in agg:Q:state (SPEC 8) and --allow-host. */
#include <string.h>
#include <strings.h>

#include "dash.h"

bool dash_list_has(const char *list, const char *s, size_t len, bool ignore_case) {
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == len && (ignore_case ? strncasecmp(p, s, len) : strncmp(p, s, len)) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}
