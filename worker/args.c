/* args.c: the growable argument vector of args.h. */
#include "args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/contrib.h"
#include "agg/log.h"

void *grow_or_abort(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(p, ncap * elem);
    if (!np) {
        agg_error("out_of_memory", "bytes=%zu", ncap * elem);
        abort();
    }
    *cap = ncap;
    return np;
}

void args_clear(args_t *a) {
    a->len = 0;
    a->n = 0;
}

void args_free(args_t *a) {
    free(a->buf);
    free(a->off);
    free(a->alen);
    free(a->argv);
    memset(a, 0, sizeof *a);
}

void args_add(args_t *a, const char *s, size_t len) {
    a->buf = grow_or_abort(a->buf, &a->cap, a->len + len + 1, 1);
    if (a->n + 1 > a->ncap) {
        size_t ncap = a->ncap ? a->ncap * 2 : 256;
        size_t *off = realloc(a->off, ncap * sizeof *off);
        size_t *alen = off ? realloc(a->alen, ncap * sizeof *alen) : NULL;
        const char **argv = alen ? realloc(a->argv, ncap * sizeof *argv) : NULL;
        if (off)
            a->off = off;
        if (alen)
            a->alen = alen;
        if (!argv) {
            agg_error("out_of_memory", "what=args");
            abort();
        }
        a->argv = argv;
        a->ncap = ncap;
    }
    memcpy(a->buf + a->len, s, len);
    a->buf[a->len + len] = '\0';
    a->off[a->n] = a->len;
    a->alen[a->n] = len;
    a->len += len + 1;
    a->n++;
}

void args_str(args_t *a, const char *s) { args_add(a, s, strlen(s)); }

void args_i64(args_t *a, int64_t v) {
    char tmp[24];
    args_add(a, tmp, agg_fmt_i64(tmp, v));
}

size_t args_reserve(args_t *a) {
    args_add(a, "0000000000", 10);
    return a->n - 1;
}

void args_patch(args_t *a, size_t idx, int64_t v) {
    int n = snprintf(a->buf + a->off[idx], 11, "%" PRId64, v);
    a->alen[idx] = (size_t)n;
}

void args_finish(args_t *a, size_t from) {
    for (size_t i = from; i < a->n; i++)
        a->argv[i] = a->buf + a->off[i];
}
