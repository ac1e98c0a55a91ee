/* FNV-1a 64 (hash.h): simple, fast on short keys, and stable across runs and
 * machines, which is all a lookup table or a content checksum here needs. */
#include "agg/hash.h"

#include <string.h>

uint64_t agg_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

uint64_t agg_fnv1a_str(const char *s) { return agg_fnv1a(AGG_FNV1A_INIT, s, strlen(s)); }
