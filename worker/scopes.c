/* scopes.c: the scope table of scopes.h. */
#include "scopes.h"

#include <stdlib.h>
#include <string.h>

#include "agg/hash.h"
#include "agg/keys.h"
#include "agg/log.h"

/* Region and goal, separated by a byte neither contains. */
static uint64_t hash_scope(const char *region, const char *goal) {
    static const unsigned char sep = 0xff;
    uint64_t h = agg_fnv1a(AGG_FNV1A_INIT, region, strlen(region));
    h = agg_fnv1a(h, &sep, 1);
    return agg_fnv1a(h, goal, strlen(goal));
}

static void rehash(scopes_t *t, size_t ncap);

static scope_t *scope_get(scopes_t *t, const char *region, const char *goal) {
    if ((t->n + 1) * 2 > t->cap)
        rehash(t, t->cap ? t->cap * 2 : 256);
    size_t mask = t->cap - 1;
    for (size_t i = hash_scope(region, goal) & mask;; i = (i + 1) & mask) {
        scope_t *s = &t->slots[i];
        if (!s->used) {
            memset(s, 0, sizeof *s);
            s->used = true;
            strcpy(s->region, region); /* lengths bounded by validation */
            strcpy(s->goal, goal);
            t->n++;
            return s;
        }
        if (strcmp(s->region, region) == 0 && strcmp(s->goal, goal) == 0)
            return s;
    }
}

static void rehash(scopes_t *t, size_t ncap) {
    scope_t *old = t->slots;
    size_t ocap = t->cap;
    t->slots = calloc(ncap, sizeof *t->slots);
    if (!t->slots) {
        agg_error("out_of_memory", "what=scopes");
        abort();
    }
    t->cap = ncap;
    t->n = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].used)
            continue;
        scope_t *s = scope_get(t, old[i].region, old[i].goal);
        memcpy(s->d, old[i].d, sizeof s->d);
    }
    free(old);
}

void scopes_clear(scopes_t *t) {
    for (size_t i = 0; i < t->cap; i++)
        t->slots[i].used = false;
    t->n = 0;
}

void scopes_free(scopes_t *t) {
    free(t->slots);
    memset(t, 0, sizeof *t);
}

int scopes_add_deltas(scopes_t *t, const char *region, const char *goal,
                      const int64_t d[AGG_F__N]) {
    const char *regions[4] = {"", "", region, region};
    const char *goals[4] = {"", goal, "", goal};
    scope_t *s[4];
    int64_t sum[4][AGG_F__N];
    /* Room for four new scopes first: a rehash between the four lookups would leave
     * the pointers taken before it dangling. */
    while ((t->n + 4 + 1) * 2 > t->cap)
        rehash(t, t->cap ? t->cap * 2 : 256);
    /* Computed aside first: an overflow in the last scope must not leave the first
     * three changed. */
    for (int k = 0; k < 4; k++) {
        s[k] = scope_get(t, regions[k], goals[k]);
        for (int f = 0; f < AGG_F__N; f++)
            if (__builtin_add_overflow(s[k]->d[f], d[f], &sum[k][f]))
                return -1;
    }
    for (int k = 0; k < 4; k++)
        memcpy(s[k]->d, sum[k], sizeof sum[k]);
    return 0;
}

int scopes_add(scopes_t *t, const char *region, const agg_contrib_t *c, int sign) {
    int64_t d[AGG_F__N] = {0};
    if (agg_contrib_add(d, c, sign) != 0)
        return -1;
    return scopes_add_deltas(t, region, c->goal, d);
}

static void emit_scope(args_t *a, const scope_t *s, const char *key_prefix,
                       const char *qid) {
    char key[AGG_KEY_MAX], cnt_key[AGG_KEY_MAX], rank_key[AGG_KEY_MAX] = "";
    const char *region = s->region[0] ? s->region : NULL;
    const char *goal = s->goal[0] ? s->goal : NULL;
    const char *kind = region ? (goal ? "RG" : "R") : (goal ? "G" : "T");

    /* Lengths are bounded by validation; AGG_KEY_MAX leaves room for the longest. */
    agg_key_scope(key, sizeof key, key_prefix, qid, region, goal);
    agg_key_scope_counts(cnt_key, sizeof cnt_key, key_prefix, qid, region, goal);
    if (region && goal)
        agg_key_rank(rank_key, sizeof rank_key, key_prefix, qid, goal);

    args_str(a, key);
    args_str(a, cnt_key);
    args_str(a, kind);
    args_str(a, s->region);
    args_str(a, s->goal);
    args_str(a, rank_key);
    size_t nf_at = args_reserve(a);
    int64_t nf = 0;
    /* Only a scope that gains records can be new, and a new scope must get all six
     * counts ("0" included); elsewhere a zero delta is a wasted HINCRBY. */
    bool may_be_new = s->d[AGG_F_INDICATORS] > 0;
    for (int f = AGG_F_INDICATORS; f < AGG_F_AMOUNT; f++) {
        if (s->d[f] == 0 && !may_be_new)
            continue;
        args_str(a, agg_field_names[f]);
        args_i64(a, s->d[f]);
        nf++;
    }
    /* An amount goes before its record count: the script drops the amount when the
     * count reaches 0, and must not recreate it afterwards. */
    for (int f = AGG_F_AMOUNT; f < AGG_F_AMOUNT_COUNT; f++) {
        int64_t cnt = s->d[f + 6];
        if (s->d[f] != 0 || cnt != 0) {
            args_str(a, agg_field_names[f]);
            args_i64(a, s->d[f]);
            nf++;
        }
        if (cnt != 0) {
            args_str(a, agg_field_names[f + 6]);
            args_i64(a, cnt);
            nf++;
        }
    }
    args_patch(a, nf_at, nf);
}

void scopes_emit(const scopes_t *t, args_t *a, const char *key_prefix, const char *qid) {
    static const int64_t zero[AGG_F__N];
    size_t n_at = args_reserve(a);
    int64_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        /* An unchanged scope keeps its updated_ms. */
        if (t->slots[i].used && memcmp(t->slots[i].d, zero, sizeof zero) != 0) {
            emit_scope(a, &t->slots[i], key_prefix, qid);
            n++;
        }
    }
    args_patch(a, n_at, n);
}
