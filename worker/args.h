/* A growable argument vector for Redis commands (HMGET, EVALSHA of apply.lua): strings
 * live in one buffer and are addressed by offset until the vector is final, because the
 * buffer may move while it grows. Internal to agg-worker. */
#ifndef AGG_WORKER_ARGS_H
#define AGG_WORKER_ARGS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t len, cap;
    size_t *off, *alen;
    const char **argv;
    size_t n, ncap;
} args_t;

/* Grows an array to hold need elements; aborts when memory is out (a worker without
 * memory cannot make progress; a restart is the cure). Returns the (moved) array. */
void *grow_or_abort(void *p, size_t *cap, size_t need, size_t elem);

void args_clear(args_t *a);
void args_free(args_t *a);
void args_add(args_t *a, const char *s, size_t len);
void args_str(args_t *a, const char *s);
void args_i64(args_t *a, int64_t v);
/* A placeholder for a count known only later (args_patch fills it in). */
size_t args_reserve(args_t *a);
void args_patch(args_t *a, size_t idx, int64_t v);
/* Makes argv[from..n) point into the buffer; valid until the next add. */
void args_finish(args_t *a, size_t from);

#endif
