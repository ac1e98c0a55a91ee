/* FNV-1a 64: the one string hash of the project (hash tables keyed by region or
 * indicator, the producer's duplicate check, the load generator's checksum). */
#ifndef AGG_HASH_H
#define AGG_HASH_H

#include <stddef.h>
#include <stdint.h>

#define AGG_FNV1A_INIT 1469598103934665603ULL

/* Continues hash h over len bytes (start with AGG_FNV1A_INIT). */
uint64_t agg_fnv1a(uint64_t h, const void *data, size_t len);
/* FNV-1a of a NUL-terminated string. */
uint64_t agg_fnv1a_str(const char *s);

#endif
