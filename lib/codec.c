/* Wire codec: agg_record_t <-> Envelope (proto/report.proto), and the decode arena.
 *
 * The worker decodes every message of a batch into one arena and resets it after the
 * batch, so decoding costs no malloc per message. protobuf-c only needs an allocator;
 * ours bumps a pointer and, when the arena is full, falls back to malloc so an
 * oversized message still decodes (counted, so an operator can size the arena). */
#include "agg/codec.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.pb-c.h"

/* protobuf-c messages hold pointers, int64 and size_t: 8 bytes is enough for all. */
#define ARENA_ALIGN 8

/* A malloc'd fallback block starts with this header; the blocks form a doubly linked
 * list so protobuf-c can free one (it does when it drops a half-decoded message or a
 * repeated oneof member) and agg_arena_reset() can free the rest. The union keeps the
 * payload after it aligned like malloc's own result. */
typedef union fallback_hdr {
    struct {
        union fallback_hdr *prev, *next;
    } l;
    max_align_t align;
} fallback_hdr_t;

/* Stored just before arena->mem (same malloc block): the public struct has no room
 * for the list head and its layout is a contract. */
typedef union {
    fallback_hdr_t *head;
    max_align_t align;
} arena_hdr_t;

static arena_hdr_t *arena_hdr(const agg_arena_t *arena) {
    return (arena_hdr_t *)(void *)(arena->mem - sizeof(arena_hdr_t));
}

/* Returns 0, or -1 when malloc fails (arena left zeroed). The arena owns its block
 * until agg_arena_free(). */
int agg_arena_init(agg_arena_t *arena, size_t size) {
    memset(arena, 0, sizeof *arena);
    if (size > SIZE_MAX - sizeof(arena_hdr_t))
        return -1;
    char *block = malloc(sizeof(arena_hdr_t) + size);
    if (block == NULL)
        return -1;
    ((arena_hdr_t *)(void *)block)->head = NULL;
    arena->mem = block + sizeof(arena_hdr_t);
    arena->size = size;
    return 0;
}

/* Frees every fallback block and makes the whole arena available again. Everything
 * decoded since the last reset becomes invalid. fallback_allocs is cumulative (a
 * metric), so it is not cleared here. */
void agg_arena_reset(agg_arena_t *arena) {
    if (arena->mem == NULL)
        return;
    arena_hdr_t *h = arena_hdr(arena);
    fallback_hdr_t *b = h->head;
    while (b != NULL) {
        fallback_hdr_t *next = b->l.next;
        free(b);
        b = next;
    }
    h->head = NULL;
    arena->used = 0;
}

void agg_arena_free(agg_arena_t *arena) {
    if (arena->mem == NULL)
        return;
    agg_arena_reset(arena);
    free(arena->mem - sizeof(arena_hdr_t));
    memset(arena, 0, sizeof *arena);
}

/* allocator_data of one decode: which arena, and whether this decode needed malloc. */
typedef struct {
    agg_arena_t *arena;
    bool fell_back;
} decode_ctx_t;

static bool in_arena(const agg_arena_t *arena, const void *p) {
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)arena->mem;
    return u >= lo && u < lo + arena->size;
}

static void *arena_alloc(void *data, size_t size) {
    decode_ctx_t *ctx = data;
    agg_arena_t *arena = ctx->arena;
    /* protobuf-c treats NULL as out of memory, so even 0 bytes gets a unique pointer. */
    if (size == 0)
        size = 1;
    if (size <= SIZE_MAX - (ARENA_ALIGN - 1)) {
        size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (rounded <= arena->size - arena->used) {
            void *p = arena->mem + arena->used;
            arena->used += rounded;
            return p;
        }
    }
    if (size > SIZE_MAX - sizeof(fallback_hdr_t))
        return NULL;
    fallback_hdr_t *b = malloc(sizeof(fallback_hdr_t) + size);
    if (b == NULL)
        return NULL;
    arena_hdr_t *h = arena_hdr(arena);
    b->l.prev = NULL;
    b->l.next = h->head;
    if (h->head != NULL)
        h->head->l.prev = b;
    h->head = b;
    ctx->fell_back = true;
    return b + 1;
}

/* Arena memory is released only by agg_arena_reset(); a fallback block is unlinked
 * and freed now. */
static void arena_free(void *data, void *p) {
    decode_ctx_t *ctx = data;
    if (p == NULL || in_arena(ctx->arena, p))
        return;
    fallback_hdr_t *b = (fallback_hdr_t *)p - 1;
    if (b->l.prev != NULL)
        b->l.prev->l.next = b->l.next;
    else
        arena_hdr(ctx->arena)->head = b->l.next;
    if (b->l.next != NULL)
        b->l.next->l.prev = b->l.prev;
    free(b);
}

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...) {
    if (errstr == NULL || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* Packs any message into a malloc'd buffer (caller frees *out). Returns the length or
 * -1 on allocation failure or a length that does not fit a long. */
static long pack_message(const ProtobufCMessage *msg, uint8_t **out) {
    *out = NULL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    if (len > (size_t)LONG_MAX)
        return -1;
    uint8_t *buf = malloc(len > 0 ? len : 1);
    if (buf == NULL)
        return -1;
    size_t packed = protobuf_c_message_pack(msg, buf);
    if (packed != len) { /* cannot happen unless protobuf-c is broken; never send junk */
        free(buf);
        return -1;
    }
    *out = buf;
    return (long)len;
}

/* protobuf-c measures strings with strlen, but record strings are (pointer, length)
 * and may not be NUL-terminated: copy them into one malloc'd block. Returns it (caller
 * frees, may be NULL when there is nothing to copy) or sets *failed. */
static char *dup_two(const char *a, size_t alen, const char *b, size_t blen, char **a_out,
                     char **b_out, bool *failed) {
    *a_out = *b_out = NULL;
    *failed = false;
    if (a == NULL && b == NULL)
        return NULL;
    size_t need = (a ? alen + 1 : 0) + (b ? blen + 1 : 0);
    char *block = malloc(need);
    if (block == NULL) {
        *failed = true;
        return NULL;
    }
    char *p = block;
    if (a != NULL) {
        memcpy(p, a, alen);
        p[alen] = '\0';
        *a_out = p;
        p += alen + 1;
    }
    if (b != NULL) {
        memcpy(p, b, blen);
        p[blen] = '\0';
        *b_out = p;
    }
    return block;
}

long agg_encode_report(const agg_record_t *r, uint8_t **out) {
    *out = NULL;
    char *title = NULL, *report_id = NULL;
    bool failed;
    char *block = dup_two(r->title, r->title_len, r->report_id, r->report_id_len, &title,
                          &report_id, &failed);
    if (failed)
        return -1;

    Agg__V1__Report rep = AGG__V1__REPORT__INIT;
    /* protobuf-c's struct wants char *, pack() only reads. */
    rep.region = (char *)r->region;
    rep.year = (uint32_t)r->year;
    rep.quarter = (uint32_t)r->quarter;
    rep.goal = (char *)r->goal;
    rep.indicator = (char *)r->indicator;
    rep.title = title;
    /* unit and revision are always written, even at their defaults: a district's own
     * consumer then never has to know the schema defaults to read them. */
    rep.has_unit = 1;
    rep.unit = (Agg__V1__Unit)r->unit;
    rep.has_baseline_x100 = r->has_baseline;
    rep.baseline_x100 = r->baseline_x100;
    rep.has_target_x100 = r->has_target;
    rep.target_x100 = r->target_x100;
    rep.has_achieved_x100 = r->has_achieved;
    rep.achieved_x100 = r->achieved_x100;
    rep.has_completion_x100 = r->has_completion;
    rep.completion_x100 = (uint32_t)r->completion_x100;
    rep.has_revision = 1;
    rep.revision = (uint32_t)r->revision;
    rep.has_submitted_ms = r->submitted_ms != 0;
    rep.submitted_ms = r->submitted_ms;
    rep.report_id = report_id;

    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
    env.has_schema_version = 1;
    env.schema_version = 1;
    env.body_case = AGG__V1__ENVELOPE__BODY_REPORT;
    env.report = &rep;

    long len = pack_message(&env.base, out);
    free(block);
    return len;
}

long agg_encode_close(const agg_close_t *c, uint8_t **out) {
    Agg__V1__QuarterClose cl = AGG__V1__QUARTER_CLOSE__INIT;
    cl.year = (uint32_t)c->year;
    cl.quarter = (uint32_t)c->quarter;
    cl.has_requested_ms = c->requested_ms != 0;
    cl.requested_ms = c->requested_ms;
    cl.requested_by = c->requested_by[0] ? (char *)c->requested_by : NULL; /* pack() only reads */
    cl.has_partitions = c->partitions > 0;
    cl.partitions = c->partitions > 0 ? (uint32_t)c->partitions : 0;
    cl.has_deadline_ms = c->deadline_ms != 0;
    cl.deadline_ms = c->deadline_ms;

    Agg__V1__Envelope env = AGG__V1__ENVELOPE__INIT;
    env.has_schema_version = 1;
    env.schema_version = 1;
    env.body_case = AGG__V1__ENVELOPE__BODY_CLOSE;
    env.close = &cl;
    return pack_message(&env.base, out);
}

/* Copies a decoded string into a fixed record array. protobuf-c strings are
 * NUL-terminated copies of the wire bytes. */
static int copy_code(char *dst, size_t cap, const char *src, const char *name, char *errstr,
                     size_t errstr_size) {
    size_t len = src ? strlen(src) : 0;
    if (len > cap) {
        set_err(errstr, errstr_size, "field too long: %s (%zu bytes, max %zu)", name, len,
                cap);
        return -1;
    }
    memcpy(dst, src ? src : "", len);
    dst[len] = '\0';
    return 0;
}

/* uint32 wire values that land in an int field; the validator then checks the rule. */
static int to_int(uint32_t v, const char *name, int *out, char *errstr,
                  size_t errstr_size) {
    if (v > (uint32_t)INT32_MAX) {
        set_err(errstr, errstr_size, "field out of range: %s (%" PRIu32 ")", name, v);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int decode_report(const Agg__V1__Report *rep, agg_record_t *r, char *errstr,
                         size_t errstr_size) {
    memset(r, 0, sizeof *r);
    if (copy_code(r->region, AGG_REGION_MAX, rep->region, "region", errstr, errstr_size) ||
        copy_code(r->goal, AGG_GOAL_MAX, rep->goal, "goal", errstr, errstr_size) ||
        copy_code(r->indicator, AGG_INDICATOR_MAX, rep->indicator, "indicator", errstr,
                  errstr_size))
        return -1;
    if (to_int(rep->year, "year", &r->year, errstr, errstr_size) ||
        to_int(rep->quarter, "quarter", &r->quarter, errstr, errstr_size))
        return -1;

    /* The enum is closed in proto2, but protobuf-c stores any number it reads. */
    int unit = rep->has_unit ? (int)rep->unit : AGG_UNIT_COUNT;
    if (unit < 0 || unit >= AGG_UNIT__COUNT) {
        set_err(errstr, errstr_size, "unsupported unit %d", unit);
        return -1;
    }
    r->unit = (agg_unit_t)unit;

    r->has_baseline = rep->has_baseline_x100;
    r->baseline_x100 = rep->has_baseline_x100 ? rep->baseline_x100 : 0;
    r->has_target = rep->has_target_x100;
    r->target_x100 = rep->has_target_x100 ? rep->target_x100 : 0;
    r->has_achieved = rep->has_achieved_x100;
    r->achieved_x100 = rep->has_achieved_x100 ? rep->achieved_x100 : 0;
    r->has_completion = rep->has_completion_x100;
    if (rep->has_completion_x100) {
        int c;
        if (to_int(rep->completion_x100, "completion_x100", &c, errstr, errstr_size))
            return -1;
        r->completion_x100 = c;
    }
    int rev = 1; /* the schema default */
    if (rep->has_revision && to_int(rep->revision, "revision", &rev, errstr, errstr_size))
        return -1;
    r->revision = rev;
    r->submitted_ms = rep->has_submitted_ms ? rep->submitted_ms : 0;
    if (rep->title != NULL) {
        r->title = rep->title;
        r->title_len = strlen(rep->title);
    }
    if (rep->report_id != NULL) {
        r->report_id = rep->report_id;
        r->report_id_len = strlen(rep->report_id);
    }
    return 0;
}

/* protobuf-c copies a string field's wire bytes and NUL-terminates the copy, so a NUL
 * inside the bytes would silently cut the string: "3.1\0x" would become indicator "3.1"
 * and merge with another record. This walks the (already successfully unpacked) wire
 * bytes once, with the generated descriptors, and names the first string field that
 * holds a NUL byte. Returns that field's name, or NULL. */
static const char *string_with_nul(const uint8_t *p, size_t len,
                                   const ProtobufCMessageDescriptor *desc, int depth) {
    size_t i = 0;
    while (i < len) {
        uint64_t key = 0;
        for (int shift = 0;; shift += 7) {
            if (i >= len || shift > 63)
                return NULL; /* cannot happen after a successful unpack */
            uint8_t b = p[i++];
            key |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80))
                break;
        }
        unsigned wire_type = (unsigned)(key & 7);
        uint64_t n = 0;
        switch (wire_type) {
        case 0: /* varint */
            while (i < len && (p[i] & 0x80))
                i++;
            i++;
            continue;
        case 1: /* 64-bit */
            i += 8;
            continue;
        case 5: /* 32-bit */
            i += 4;
            continue;
        case 2: /* length-delimited: the case of interest */
            for (int shift = 0;; shift += 7) {
                if (i >= len || shift > 63)
                    return NULL;
                uint8_t b = p[i++];
                n |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                    break;
            }
            if (n > len - i)
                return NULL;
            break;
        default:
            return NULL; /* groups: not in this schema */
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
        if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p + i, 0, (size_t)n))
            return f->name;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 8) {
            const char *inner = string_with_nul(p + i, (size_t)n, f->descriptor, depth + 1);
            if (inner)
                return inner;
        }
        i += (size_t)n;
    }
    return NULL;
}

/* Never call protobuf_c_message_free_unpacked() on what this decodes: the memory
 * belongs to the arena and goes at agg_arena_reset(). */
int agg_decode(const void *data, size_t len, agg_arena_t *arena, agg_msg_t *out,
               char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    decode_ctx_t ctx = {.arena = arena, .fell_back = false};
    ProtobufCAllocator alloc = {
        .alloc = arena_alloc, .free = arena_free, .allocator_data = &ctx};
    Agg__V1__Envelope *env = agg__v1__envelope__unpack(&alloc, len, data);
    if (ctx.fell_back)
        arena->fallback_allocs++;
    if (env == NULL) {
        set_err(errstr, errstr_size, "undecodable: not a valid protobuf Envelope");
        return -1;
    }
    const char *nul_field =
        string_with_nul(data, len, &agg__v1__envelope__descriptor, 0);
    if (nul_field) {
        set_err(errstr, errstr_size, "invalid field %s: NUL byte in the text", nul_field);
        return -1;
    }
    /* has_schema_version is false when absent; the generated default is then 1. */
    if (env->schema_version != 1) {
        set_err(errstr, errstr_size, "unsupported schema_version %" PRIu32,
                env->schema_version);
        return -1;
    }
    switch (env->body_case) {
    case AGG__V1__ENVELOPE__BODY_REPORT:
        out->kind = AGG_MSG_REPORT;
        return decode_report(env->report, &out->record, errstr, errstr_size);
    case AGG__V1__ENVELOPE__BODY_CLOSE: {
        const Agg__V1__QuarterClose *cl = env->close;
        /* No validator exists for markers, so their rules are checked here. */
        if (cl->year < AGG_YEAR_MIN || cl->year > AGG_YEAR_MAX) {
            set_err(errstr, errstr_size, "close marker: year %" PRIu32 " out of range",
                    cl->year);
            return -1;
        }
        if (cl->quarter < 1 || cl->quarter > 4) {
            set_err(errstr, errstr_size, "close marker: quarter %" PRIu32 " out of range",
                    cl->quarter);
            return -1;
        }
        if (cl->has_partitions && (cl->partitions < 1 || cl->partitions > 100000)) {
            set_err(errstr, errstr_size, "close marker: partitions %" PRIu32 " out of range",
                    cl->partitions);
            return -1;
        }
        if (cl->has_deadline_ms && cl->deadline_ms <= 0) {
            set_err(errstr, errstr_size, "close marker: deadline_ms %" PRId64 " out of range",
                    cl->deadline_ms);
            return -1;
        }
        memset(&out->close, 0, sizeof out->close);
        if (copy_code(out->close.requested_by, AGG_REQUESTED_BY_MAX, cl->requested_by,
                      "requested_by", errstr, errstr_size) != 0)
            return -1;
        out->kind = AGG_MSG_CLOSE;
        out->close.year = (int)cl->year;
        out->close.quarter = (int)cl->quarter;
        out->close.requested_ms = cl->has_requested_ms ? cl->requested_ms : 0;
        out->close.partitions = cl->has_partitions ? (int32_t)cl->partitions : 0;
        out->close.deadline_ms = cl->has_deadline_ms ? cl->deadline_ms : 0;
        return 0;
    }
    default:
        set_err(errstr, errstr_size, "envelope has no report and no close marker");
        return -1;
    }
}
