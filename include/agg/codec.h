/* Wire codec: agg_record_t <-> the protobuf Envelope of proto/report.proto. */
#ifndef AGG_CODEC_H
#define AGG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "agg/record.h"

typedef enum {
    AGG_MSG_REPORT = 1,
    AGG_MSG_CLOSE = 2,
} agg_msg_kind_t;

/* A quarter-close marker (proto QuarterClose). 0 = absent for the numbers. */
#define AGG_REQUESTED_BY_MAX 128
typedef struct {
    int year, quarter;
    int64_t requested_ms;
    int32_t partitions; /* v2: the topic's partition count when the markers were written */
    int64_t deadline_ms; /* v2: the quarter's reporting deadline */
    char requested_by[AGG_REQUESTED_BY_MAX + 1]; /* "" = not given */
} agg_close_t;

typedef struct {
    agg_msg_kind_t kind;
    agg_record_t record; /* kind == AGG_MSG_REPORT */
    agg_close_t close;   /* kind == AGG_MSG_CLOSE */
} agg_msg_t;

/* Bump allocator handed to protobuf-c so decoding a batch costs no malloc per message.
 * The caller owns mem; agg_arena_reset() frees everything decoded since the last reset. */
typedef struct {
    char *mem;
    size_t size, used;
    size_t fallback_allocs; /* decodes that did not fit and went to malloc */
} agg_arena_t;

int agg_arena_init(agg_arena_t *arena, size_t size);
void agg_arena_reset(agg_arena_t *arena);
void agg_arena_free(agg_arena_t *arena);

/* Serializes a report (title/report_id included) into a malloc'd buffer. Returns the
 * length and sets *out (caller frees), or -1 on allocation failure. */
long agg_encode_report(const agg_record_t *r, uint8_t **out);
/* Same for a quarter-close marker. */
long agg_encode_close(const agg_close_t *c, uint8_t **out);

/* Decodes one message value. Strings of the record borrow from memory in the arena, so
 * out is valid until the next agg_arena_reset(). Returns 0, or -1 with the reason in
 * errstr ("undecodable: ...", "unsupported schema_version 7", "field too long: goal").
 * Field rules are not checked here: call agg_record_validate(). */
int agg_decode(const void *data, size_t len, agg_arena_t *arena, agg_msg_t *out,
               char *errstr, size_t errstr_size);

#endif
