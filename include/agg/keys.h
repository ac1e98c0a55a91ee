/* Redis key names: the public contract of SPEC section 6, in one place.
 * Every function writes a NUL-terminated name into buf and returns its length, or -1
 * when bufsz is too small (nothing is truncated silently). */
#ifndef AGG_KEYS_H
#define AGG_KEYS_H

#include <stddef.h>

#define AGG_KEY_MAX 256

/* Scope hash: region and goal may each be NULL:
 *   (NULL, NULL) -> P:Q:total            (r, NULL) -> P:Q:region:r
 *   (NULL, g)    -> P:Q:goal:g           (r, g)    -> P:Q:region:r:goal:g */
int agg_key_scope(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                  const char *region, const char *goal);
/* Internal counters of a scope (how many records carry each summed amount), named
 * like the scope with "internal:cnt:" after the prefix. Not for readers. */
int agg_key_scope_counts(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                         const char *region, const char *goal);
int agg_key_regions(char *buf, size_t bufsz, const char *prefix, const char *quarter);
int agg_key_goals(char *buf, size_t bufsz, const char *prefix, const char *quarter);
int agg_key_rank(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                 const char *goal);
int agg_key_state(char *buf, size_t bufsz, const char *prefix, const char *quarter);
int agg_key_quarters(char *buf, size_t bufsz, const char *prefix);
/* Region -> first submitted_at (ms) of the quarter: backs timeliness (SPEC 8). */
int agg_key_regions_first(char *buf, size_t bufsz, const char *prefix, const char *quarter);
/* "P:Q:", from which the close builds every scope key of the quarter (apply.lua). */
int agg_key_scope_base(char *buf, size_t bufsz, const char *prefix, const char *quarter);
/* Internal: set of the partitions of a quarter's topic that applied a close marker. */
int agg_key_closed_partitions(char *buf, size_t bufsz, const char *prefix,
                              const char *quarter);
/* Internal: summaries decided but not yet acknowledged by the broker (a list). */
int agg_key_outbox(char *buf, size_t bufsz, const char *prefix);
/* Internal: a lock, e.g. "summary-sender" or "deadline:2024-Q2". */
int agg_key_lock(char *buf, size_t bufsz, const char *prefix, const char *what);
/* Internal: exists (value = the replay's member id, with a TTL) while a replay of the
 * quarter runs; the live workers hold the quarter's partitions meanwhile. */
int agg_key_replay_lock(char *buf, size_t bufsz, const char *prefix, const char *quarter);
/* Internal: the key prefix under which a replay of the quarter stages its result. */
int agg_key_replay_staging(char *buf, size_t bufsz, const char *prefix, const char *quarter);
/* Internal: latest revision of every record of one region in one quarter. */
int agg_key_records(char *buf, size_t bufsz, const char *prefix, const char *quarter,
                    const char *region);
/* Internal: next offset to apply, per partition, of one topic. */
int agg_key_offsets(char *buf, size_t bufsz, const char *prefix, const char *topic);
/* Internal: worker metrics hash of one consumer. */
int agg_key_metrics(char *buf, size_t bufsz, const char *prefix, const char *member);

#endif
