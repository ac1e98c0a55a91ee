/* Summary events (SPEC 8, proto Summary): the outbox entry written by the close and
 * amendment scripts (a JSON object whose numbers are all strings, exact int64) turned
 * into the protobuf message the sender publishes, and the protobuf message turned back
 * into JSON for readers (agg-summaries --json). */
#ifndef AGG_SUMMARY_H
#define AGG_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#define AGG_SUMMARY_ID_MAX 128

/* Converts one outbox entry. On success returns the length of the serialized Summary
 * in *out (malloc'd, the caller frees) and fills id and quarter (the message key);
 * emitted_ms overrides the entry's unless 0. -1 with the reason in errstr otherwise. */
long agg_summary_from_outbox(const char *json, size_t len, uint8_t **out,
                             char id[AGG_SUMMARY_ID_MAX + 1], char quarter[16],
                             char *errstr, size_t errstr_size);

/* Decodes a serialized Summary into one line of JSON (no newline), malloc'd, the caller
 * frees; NULL with the reason in errstr. Amounts are JSON integers, exact. id, quarter,
 * scope and revision are copied out for grouping. */
char *agg_summary_to_json(const uint8_t *data, size_t len, char id[AGG_SUMMARY_ID_MAX + 1],
                          char scope[AGG_SUMMARY_ID_MAX + 1], uint32_t *revision,
                          char *errstr, size_t errstr_size);

#endif
