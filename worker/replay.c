/* replay.c: agg-worker replay --quarter Q [--verify] [--json] (SPEC 9).
 *
 *  1. Take the quarter's replay lock in Redis (SET NX with a TTL, renewed while the
 *     replay runs). Two replays of one quarter cannot run at once; a crashed replay's
 *     lock expires. While it exists, apply.lua refuses every live batch of the quarter
 *     (REPLAY): the live workers hold its partitions (replay_hold.c).
 *  2. Note each partition's end (high watermark) now: the replay counts exactly the
 *     messages below it; the live workers apply the rest after the swap.
 *  3. The staging run: worker_run() itself -- the live path's decode, validation,
 *     revisions, scopes, close markers and holds, late records -- with the quarter's
 *     partitions assigned from the beginning and every key under a staging prefix
 *     (agg:internal:replay:Q:...). Rejects are counted, not sent again (the live run
 *     sent them to the DLQ); nothing is sent to the summary topic.
 *  4. --verify: every difference between the staged and the live keys is printed;
 *     nothing is swapped. Otherwise swap.lua replaces the live keys of the quarter with
 *     the staged ones in one atomic step, emits the summaries again (next revision,
 *     replayed) when the quarter is closed, and deletes the lock: the live workers
 *     resume from the replayed offsets.
 * A replay that fails leaves the live keys untouched; its staging keys are deleted (or
 * by the next replay of the quarter, which starts by deleting them). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg/kafka.h"
#include "agg/log.h"
#include "agg/summary.h"
#include "recompute.h"
#include "replay.h"
#include "worker_run.h"


/* ---------------------------------------------------------------- staging run */

int replay_assign(worker_run_t *w) {
    const replay_run_t *r = w->conf->replay;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nparts);
    if (!l)
        return -1;
    for (int p = 0; p < r->nparts; p++)
        rd_kafka_topic_partition_list_add(l, r->topic, p);
    rebalance_assign(w, l); /* sets each offset from the (staged) stored one */
    rd_kafka_resp_err_t err = rd_kafka_assign(w->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        agg_error("replay_assign_failed", "topic=%s error=\"%s\"", r->topic, rd_kafka_err2str(err));
        return -1;
    }
    close_pause_held(w);
    return 0;
}

bool replay_beyond_end(const worker_run_t *w, const part_t *p, int64_t offset) {
    const replay_run_t *r = w->conf->replay;
    return p->partition < 0 || p->partition >= r->nparts || offset >= r->ends[p->partition];
}

static int64_t applied_messages(const worker_run_t *w) {
    const replay_run_t *r = w->conf->replay;
    int64_t n = 0;
    for (size_t i = 0; i < w->nparts; i++) {
        const part_t *p = &w->parts[i];
        if (p->used && p->expected > 0 && p->partition < r->nparts)
            n += p->expected;
    }
    return n;
}

bool replay_keepalive(replay_run_t *r, store_t *st, int64_t done) {
    long long now = agg_mono_ms();
    if (now >= r->next_renew_ms) {
        char err[256], ttl[16];
        redisReply *rep;
        static const char renew[] =
            "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
            "redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1";
        snprintf(ttl, sizeof ttl, "%d", (int)r->live->replay_lock_ms);
        const char *argv[] = {"EVAL", renew, "1", r->lock_key, r->member, ttl};
        /* A lost connection is made again here (store_connect() keeps a live one): the
         * read goes on meanwhile, and if Redis stays away longer than the lock lasts,
         * the next renewal finds the lock gone and the replay stops, live keys intact. */
        if (store_connect(st, err, sizeof err) == STORE_OK &&
            store_command(st, &rep, err, sizeof err, 6, argv) == STORE_OK) {
            if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 0) {
                agg_error("replay_lock_lost", "key=%s note=\"it expired; another replay may "
                          "run\"", r->lock_key);
                r->lock_lost = true;
                return false;
            }
            r->next_renew_ms = now + r->live->replay_lock_ms / 6;
        } else {
            unsigned long suppressed = 0;
            if (agg_log_every("replay_lock_renew", 5000, &suppressed))
                agg_warn("replay_lock_not_renewed", "key=%s suppressed=%lu error=\"%s\" "
                         "note=\"retrying\"", r->lock_key, suppressed, err);
            r->next_renew_ms = now + 500;
        }
    }
    if (r->tty && now - r->last_progress_ms >= 250) {
        double secs = (double)(now - r->started_ms) / 1000.0;
        fprintf(stderr, "\rreplay %s: %" PRId64 " / %" PRId64 " messages (%.1fk/s)   ",
                r->topic, done, r->total, secs > 0 ? (double)done / secs / 1000.0 : 0.0);
        r->last_progress_ms = now;
    }
    return true;
}

bool replay_go_on(replay_run_t *r, store_t *st, int64_t done, char *errstr,
                  size_t errstr_size) {
    if (worker_stop) {
        snprintf(errstr, errstr_size, "stopped");
        return false;
    }
    if (!replay_keepalive(r, st, done)) {
        snprintf(errstr, errstr_size, "the replay lock expired");
        return false;
    }
    return true;
}

bool replay_tick(worker_run_t *w) {
    replay_run_t *r = w->conf->replay;
    if (!replay_keepalive(r, w->store, applied_messages(w))) {
        worker_stop = 1;
        return false;
    }
    if (w->pending)
        return false;
    for (size_t i = 0; i < w->nparts; i++) {
        const part_t *p = &w->parts[i];
        if (!p->used || p->partition >= r->nparts)
            continue;
        int64_t end = r->ends[p->partition];
        if (end > 0 && p->expected < end && !p->close_held)
            return false;
    }
    return true;
}

void replay_collect(worker_run_t *w) {
    replay_run_t *r = w->conf->replay;
    r->messages = (unsigned long long)applied_messages(w);
    r->records_applied = w->c.records_applied;
    r->records_unchanged = w->c.records_unchanged;
    r->rejects = w->c.rejects;
    r->held_partitions = 0;
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].used && w->parts[i].close_held)
            r->held_partitions++;
    if (r->tty)
        fputc('\n', stderr);
}

/* ---------------------------------------------------------------- keys */

typedef struct {
    char **v;
    size_t n, cap;
} strv_t;

static int strv_add(strv_t *s, const char *x, size_t len) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strndup(x, len)))
        return -1;
    s->n++;
    return 0;
}

static void strv_free(strv_t *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* A glob pattern matching exactly the keys that start with prefix. */
static void glob_prefix(char *out, size_t outsz, const char *prefix) {
    size_t j = 0;
    for (const char *c = prefix; *c && j + 3 < outsz; c++) {
        if (strchr("*?[]\\", *c))
            out[j++] = '\\';
        out[j++] = *c;
    }
    if (j + 2 <= outsz) {
        out[j++] = '*';
        out[j] = '\0';
    }
}

/* SCAN MATCH pattern, every key into out. */
static int scan_keys(store_t *st, const char *pattern, strv_t *out, char *err, size_t errsz) {
    char cursor[32] = "0";
    do {
        redisReply *r;
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
        if (store_command(st, &r, err, errsz, 6, argv) != STORE_OK)
            return -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(err, errsz, "unexpected reply to SCAN");
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++)
            if (strv_add(out, keys->element[i]->str, keys->element[i]->len) != 0) {
                snprintf(err, errsz, "out of memory");
                return -1;
            }
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int delete_keys(store_t *st, const strv_t *keys, char *err, size_t errsz) {
    for (size_t i = 0; i < keys->n; i++) {
        redisReply *r;
        const char *argv[] = {"UNLINK", keys->v[i]};
        if (store_command(st, &r, err, errsz, 2, argv) != STORE_OK)
            return -1;
    }
    return 0;
}

typedef struct {
    const char *live_prefix, *staging, *qid, *topic;
} naming_t;

/* The live name of a staged key, or false for staged keys that have none (the staged
 * outbox and metrics, its copy of agg:quarters): they are only deleted. */
static bool live_name(const naming_t *nm, const char *staged, char *out, size_t outsz) {
    size_t sl = strlen(nm->staging);
    if (strncmp(staged, nm->staging, sl) != 0 || staged[sl] != ':')
        return false;
    const char *rest = staged + sl + 1;
    char a[128], b[128], c[128], d[300], e[128];
    snprintf(a, sizeof a, "%s:", nm->qid);
    snprintf(b, sizeof b, "internal:rec:%s:", nm->qid);
    snprintf(c, sizeof c, "internal:cnt:%s:", nm->qid);
    snprintf(d, sizeof d, "internal:offsets:%s", nm->topic);
    snprintf(e, sizeof e, "internal:closed:%s", nm->qid);
    if (strncmp(rest, a, strlen(a)) != 0 && strncmp(rest, b, strlen(b)) != 0 &&
        strncmp(rest, c, strlen(c)) != 0 && strcmp(rest, d) != 0 && strcmp(rest, e) != 0)
        return false;
    return snprintf(out, outsz, "%s:%s", nm->live_prefix, rest) < (int)outsz;
}

/* Every live key of the quarter: its public keys, record states, scope counters,
 * closed-partition set and the topic's offsets. */
static int live_keys(store_t *st, const naming_t *nm, strv_t *out, char *err, size_t errsz) {
    char head[AGG_KEY_MAX], pat[2 * AGG_KEY_MAX];
    const char *families[] = {"%s:%s:", "%s:internal:rec:%s:", "%s:internal:cnt:%s:"};
    for (int k = 0; k < 3; k++) {
        snprintf(head, sizeof head, families[k], nm->live_prefix, nm->qid);
        glob_prefix(pat, sizeof pat, head);
        if (scan_keys(st, pat, out, err, errsz) != 0)
            return -1;
    }
    char one[2][AGG_KEY_MAX];
    agg_key_closed_partitions(one[0], sizeof one[0], nm->live_prefix, nm->qid);
    agg_key_offsets(one[1], sizeof one[1], nm->live_prefix, nm->topic);
    for (int k = 0; k < 2; k++) {
        redisReply *r;
        const char *argv[] = {"EXISTS", one[k]};
        if (store_command(st, &r, err, errsz, 2, argv) != STORE_OK)
            return -1;
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 1 &&
            strv_add(out, one[k], strlen(one[k])) != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- verify */

typedef struct {
    char *field, *value;
} fv_t;

static int cmp_fv(const void *a, const void *b) {
    return strcmp(((const fv_t *)a)->field, ((const fv_t *)b)->field);
}

/* Fields a replay does not reproduce by design: times of the apply and of the close
 * decision, the record states' write counter, and the live run's revision history. */
static bool ignored_field(const char *f) {
    static const char *const ignored[] = {"updated_ms", "@v", "closed_ms", "summary_revision",
                                          "late_pending", "amend_first_ms", "amend_last_ms",
                                          "deadline_markers_ms", NULL};
    for (const char *const *i = ignored; *i; i++)
        if (strcmp(f, *i) == 0)
            return true;
    return false;
}

/* The key's content as sorted (field, value) pairs: a hash's fields, a sorted set's
 * members with their scores, a set's members (value ""). */
static void free_pairs(fv_t *v, long n);

static long read_pairs(store_t *st, const char *key, fv_t **out, char *err, size_t errsz) {
    redisReply *r;
    const char *targv[] = {"TYPE", key};
    *out = NULL;
    if (store_command(st, &r, err, errsz, 2, targv) != STORE_OK)
        return -1;
    char type[16];
    snprintf(type, sizeof type, "%s", r->str ? r->str : "none");
    const char *hv[] = {"HGETALL", key}, *zv[] = {"ZRANGE", key, "0", "-1", "WITHSCORES"},
               *sv[] = {"SMEMBERS", key};
    int pairs = 1;
    if (strcmp(type, "hash") == 0) {
        if (store_command(st, &r, err, errsz, 2, hv) != STORE_OK)
            return -1;
    } else if (strcmp(type, "zset") == 0) {
        if (store_command(st, &r, err, errsz, 5, zv) != STORE_OK)
            return -1;
    } else if (strcmp(type, "set") == 0) {
        if (store_command(st, &r, err, errsz, 2, sv) != STORE_OK)
            return -1;
        pairs = 0;
    } else {
        return 0; /* none: no pairs */
    }
    size_t n = pairs ? r->elements / 2 : r->elements;
    fv_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *f = r->element[pairs ? 2 * i : i];
        if (ignored_field(f->str))
            continue;
        v[k].field = strndup(f->str, f->len);
        v[k].value = pairs ? strndup(r->element[2 * i + 1]->str, r->element[2 * i + 1]->len)
                           : strdup("");
        if (!v[k].field || !v[k].value) {
            snprintf(err, errsz, "out of memory");
            free(v[k].field);
            free(v[k].value);
            free_pairs(v, (long)k); /* a partial key would compare as different */
            return -1;
        }
        k++;
    }
    qsort(v, k, sizeof *v, cmp_fv);
    *out = v;
    return (long)k;
}

static void free_pairs(fv_t *v, long n) {
    for (long i = 0; i < n; i++) {
        free(v[i].field);
        free(v[i].value);
    }
    free(v);
}

/* Prints "KEY FIELD LIVE RECOMPUTED" per difference ("-" = absent); returns how many. */
static long diff_key(store_t *st, const char *live, const char *staged, char *err,
                     size_t errsz) {
    fv_t *a = NULL, *b = NULL;
    long na = live ? read_pairs(st, live, &a, err, errsz) : 0;
    long nb = staged ? read_pairs(st, staged, &b, err, errsz) : 0;
    if (na < 0 || nb < 0) {
        free_pairs(a, na > 0 ? na : 0);
        free_pairs(b, nb > 0 ? nb : 0);
        return -1;
    }
    const char *name = live ? live : staged;
    long diffs = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].field, b[j].field);
        if (c == 0) {
            if (strcmp(a[i].value, b[j].value) != 0) {
                printf("%s %s %s %s\n", name, a[i].field, a[i].value, b[j].value);
                diffs++;
            }
            i++, j++;
        } else if (c < 0) {
            printf("%s %s %s -\n", name, a[i].field, a[i].value[0] ? a[i].value : "(member)");
            diffs++, i++;
        } else {
            printf("%s %s - %s\n", name, b[j].field, b[j].value[0] ? b[j].value : "(member)");
            diffs++, j++;
        }
    }
    free_pairs(a, na);
    free_pairs(b, nb);
    return diffs;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every difference between the live keys and the staged ones (under their live
 * names). Returns the count, or -1. */
static long verify(store_t *st, const naming_t *nm, const strv_t *live, const strv_t *staged,
                   char *err, size_t errsz) {
    char name[AGG_KEY_MAX + 64];
    long diffs = 0;
    strv_t mapped = {0};
    for (size_t i = 0; i < staged->n; i++) {
        if (!live_name(nm, staged->v[i], name, sizeof name))
            continue;
        bool found = false;
        for (size_t k = 0; k < live->n && !found; k++)
            found = strcmp(live->v[k], name) == 0;
        long d = diff_key(st, found ? name : NULL, staged->v[i], err, errsz);
        if (d < 0 || strv_add(&mapped, name, strlen(name)) != 0) {
            strv_free(&mapped);
            return -1;
        }
        diffs += d;
    }
    qsort(mapped.v, mapped.n, sizeof *mapped.v, cmp_str);
    for (size_t k = 0; k < live->n; k++) {
        if (bsearch(&live->v[k], mapped.v, mapped.n, sizeof *mapped.v, cmp_str))
            continue;
        long d = diff_key(st, live->v[k], NULL, err, errsz);
        if (d < 0) {
            strv_free(&mapped);
            return -1;
        }
        diffs += d;
    }
    strv_free(&mapped);
    return diffs;
}

/* ---------------------------------------------------------------- close point */

typedef struct {
    const char *qid;
    json_t *by_id; /* id -> summary JSON of revision 1 on the topic */
} rev1_ctx_t;

static int collect_rev1(const rd_kafka_message_t *m, void *opaque, char *errstr,
                        size_t errstr_size) {
    rev1_ctx_t *c = opaque;
    if (m->key_len != strlen(c->qid) || memcmp(m->key, c->qid, m->key_len) != 0)
        return 0;
    char id[AGG_SUMMARY_ID_MAX + 1], scope[AGG_SUMMARY_ID_MAX + 1], e[256];
    uint32_t rev;
    char *text = agg_summary_to_json(m->payload, m->len, id, scope, &rev, e, sizeof e);
    if (!text) {
        snprintf(errstr, errstr_size, "summary topic: %s", e);
        return -1;
    }
    if (rev == 1) {
        json_t *j = json_loads(text, 0, NULL);
        if (j)
            json_object_set_new(c->by_id, id, j);
    }
    free(text);
    return 0;
}

/* Compares the replay's own close point (the staged outbox: the summary set its close
 * decided, revision 1) with revision 1 on the summary topic, field for field except
 * the times. Prints each difference; returns the count, -1 on error, and -2 when there
 * is nothing to compare (the quarter never closed). */
static long compare_close_point(store_t *st, const worker_conf_t *live, const char *staging,
                                const char *qid, char *err, size_t errsz) {
    char outbox[AGG_KEY_MAX];
    redisReply *r;
    agg_key_outbox(outbox, sizeof outbox, staging);
    const char *argv[] = {"LRANGE", outbox, "0", "-1"};
    if (store_command(st, &r, err, errsz, 4, argv) != STORE_OK)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return -2;
    strv_t staged = {0};
    for (size_t i = 0; i < r->elements; i++)
        if (strv_add(&staged, r->element[i]->str, r->element[i]->len) != 0) {
            snprintf(err, errsz, "out of memory");
            strv_free(&staged);
            return -1;
        }
    rev1_ctx_t ctx = {.qid = qid, .by_id = json_object()};
    int nparts = agg_kafka_read_topic(live->bootstrap, &live->kprops, live->summary_topic, -1,
                                      30000, collect_rev1, &ctx, err, errsz);
    long diffs = nparts < 0 ? -1 : 0;
    static const char *const skip[] = {"closed_ms", "emitted_ms", "replayed", NULL};
    for (size_t i = 0; diffs >= 0 && i < staged.n; i++) {
        uint8_t *bin = NULL;
        char id[AGG_SUMMARY_ID_MAX + 1], q[16], scope[AGG_SUMMARY_ID_MAX + 1];
        uint32_t rev;
        long len = agg_summary_from_outbox(staged.v[i], strlen(staged.v[i]), &bin, id, q, err,
                                           errsz);
        char *text = len < 0 ? NULL : agg_summary_to_json(bin, (size_t)len, id, scope, &rev,
                                                          err, errsz);
        free(bin);
        json_t *mine = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        json_t *orig = json_object_get(ctx.by_id, id);
        if (!mine) {
            diffs = -1;
        } else if (!orig) {
            printf("close point: %s is not on %s\n", id, live->summary_topic);
            diffs++;
        } else {
            const char *k;
            json_t *v;
            json_object_foreach(mine, k, v) {
                bool skipped = false;
                for (const char *const *s = skip; *s && !skipped; s++)
                    skipped = strcmp(k, *s) == 0;
                if (skipped || json_equal(v, json_object_get(orig, k)))
                    continue;
                char *a = json_dumps(json_object_get(orig, k), JSON_COMPACT | JSON_ENCODE_ANY);
                char *b = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                printf("close point: %s %s: revision 1 %.200s, replayed %.200s\n", id, k,
                       a ? a : "-", b ? b : "-");
                free(a);
                free(b);
                diffs++;
            }
        }
        json_decref(mine);
    }
    json_decref(ctx.by_id);
    strv_free(&staged);
    return diffs;
}

/* ---------------------------------------------------------------- the command */

static int swap_in(store_t *st, const worker_conf_t *conf, const naming_t *nm,
                   const replay_run_t *run, const strv_t *live, const strv_t *staged,
                   char *rev_out, size_t rev_sz, size_t *nswapped, char *err, size_t errsz) {
    strv_t args = {0};
    char name[AGG_KEY_MAX + 64], num[32], k[11][AGG_KEY_MAX];
    int rc = -1;
    int year = 0, quarter = 0;
    agg_quarter_parse(nm->qid, strlen(nm->qid), &year, &quarter);
    agg_key_state(k[0], sizeof k[0], conf->key_prefix, nm->qid);
#define ADD(s) do { if (strv_add(&args, (s), strlen(s)) != 0) goto out; } while (0)
    ADD(run->lock_key);
    ADD(run->member);
    snprintf(num, sizeof num, "%lld", agg_now_ms());
    ADD(num);
    ADD(k[0]);
    snprintf(num, sizeof num, "%zu", live->n);
    ADD(num);
    for (size_t i = 0; i < live->n; i++)
        ADD(live->v[i]);
    size_t nr_at = args.n;
    ADD("0");
    size_t nr = 0;
    for (size_t i = 0; i < staged->n; i++) {
        if (!live_name(nm, staged->v[i], name, sizeof name))
            continue;
        ADD(staged->v[i]);
        ADD(name);
        nr++;
    }
    free(args.v[nr_at]);
    snprintf(num, sizeof num, "%zu", nr);
    if (!(args.v[nr_at] = strdup(num)))
        goto out;
    agg_key_scope_base(k[1], sizeof k[1], conf->key_prefix, nm->qid);
    ADD(k[1]);
    ADD(nm->qid);
    agg_key_regions(k[2], sizeof k[2], conf->key_prefix, nm->qid);
    ADD(k[2]);
    agg_key_goals(k[3], sizeof k[3], conf->key_prefix, nm->qid);
    ADD(k[3]);
    agg_key_regions_first(k[4], sizeof k[4], conf->key_prefix, nm->qid);
    ADD(k[4]);
    agg_key_offsets(k[5], sizeof k[5], conf->key_prefix, nm->topic);
    ADD(k[5]);
    ADD(nm->topic);
    agg_key_outbox(k[6], sizeof k[6], conf->key_prefix);
    ADD(k[6]);
    ADD(conf->expected_regions_csv);
    agg_key_quarters(k[7], sizeof k[7], conf->key_prefix);
    ADD(k[7]);
    snprintf(num, sizeof num, "%d", year * 10 + quarter);
    ADD(num);
#undef ADD
    size_t *lens = calloc(args.n, sizeof *lens);
    if (!lens)
        goto out;
    for (size_t i = 0; i < args.n; i++)
        lens[i] = strlen(args.v[i]);
    redisReply *r;
    if (store_append_script(st, STORE_SCRIPT_SWAP, (int)args.n, (const char **)args.v, lens, err,
                            errsz) == STORE_OK &&
        store_reply(st, &r, err, errsz) == STORE_OK) {
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->str &&
            strcmp(r->element[0]->str, "SWAPPED") == 0) {
            snprintf(rev_out, rev_sz, "%s", r->element[1]->str ? r->element[1]->str : "");
            *nswapped = nr;
            rc = 0;
        } else if (r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errsz, "swap.lua: %s", r->str);
        } else {
            snprintf(err, errsz, "the replay lock expired before the swap; nothing swapped");
        }
    }
    free(lens);
out:
    strv_free(&args);
    return rc;
}

static void release_lock(store_t *st, const replay_run_t *run) {
    static const char rel[] =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1";
    char err[256];
    redisReply *r;
    const char *argv[] = {"EVAL", rel, "1", run->lock_key, run->member};
    if (store_command(st, &r, err, sizeof err, 5, argv) != STORE_OK)
        agg_warn("replay_lock_not_released", "key=%s error=\"%s\" note=\"it expires in %d s\"",
                 run->lock_key, err, (int)(run->live->replay_lock_ms / 1000));
}

/* Every partition of run's topic still starts at offset 0 (retention deleted nothing a
 * recomputation needs); with ends != NULL, their high watermarks into ends. 0, or -1
 * with err. */
static int topic_from_zero(rd_kafka_t *rk, const replay_run_t *run, int64_t *ends, char *err,
                           size_t errsz) {
    for (int p = 0; p < run->nparts; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, run->topic, p, &lo, &hi,
                                                                 30000);
        if (e) {
            snprintf(err, errsz, "%s [%d]: %s", run->topic, p, rd_kafka_err2str(e));
            return -1;
        }
        if (lo > 0 && (ends || run->ends[p] > 0)) {
            snprintf(err, errsz, "%s [%d] starts at offset %" PRId64 ": older messages were "
                     "deleted (retention), so the quarter cannot be recomputed from its "
                     "topic", run->topic, p, lo);
            return -1;
        }
        if (ends)
            ends[p] = hi;
    }
    return 0;
}

/* Writes the staging keys; when Redis fails under the write (a lost connection, a
 * restart), deletes what this run staged and writes again -- up to STAGE_ATTEMPTS
 * times, and only while the lock can still be the replay's. 0, or -1 with err. */
#define STAGE_ATTEMPTS 5
static int stage_with_retries(recompute_t *rc, replay_run_t *run, store_t *st,
                              const worker_conf_t *sconf, const char *own_pattern, char *err,
                              size_t errsz) {
    long long failed_since = 0;
    long delay = 500;
    for (int attempt = 1;; attempt++) {
        if (stage_write(rc, st, sconf, run, err, errsz) == 0)
            return 0;
        if (worker_stop || run->lock_lost || attempt == STAGE_ATTEMPTS)
            return -1;
        if (!failed_since)
            failed_since = agg_mono_ms();
        agg_warn("replay_staging_retry", "attempt=%d error=\"%s\" note=\"the staged keys "
                 "so far are deleted and written again\"", attempt, err);
        /* A partial write must go first: apply.lua steps add their deltas. */
        bool clean = false;
        char why[256] = "";
        while (!clean && !worker_stop &&
               agg_mono_ms() - failed_since < run->live->replay_lock_ms) {
            worker_backoff(&delay);
            strv_t left = {0};
            clean = store_connect(st, why, sizeof why) == STORE_OK &&
                    scan_keys(st, own_pattern, &left, why, sizeof why) == 0 &&
                    delete_keys(st, &left, why, sizeof why) == 0;
            strv_free(&left);
        }
        if (!clean)
            return -1; /* err: the write's failure */
    }
}

/* The memory path (recompute.h): 0 staged, 1 this quarter needs the batches path (why
 * in err), -1 failed (err). */
static int stage_in_memory(replay_run_t *run, const worker_conf_t *conf, store_t *st,
                           const worker_conf_t *sconf, const char *own_pattern, char *err,
                           size_t errsz) {
    recompute_t *rc = NULL;
    recompute_rc_t rrc = recompute_read(run, conf, st, &rc, err, errsz);

    int result = rrc == RECOMPUTE_FALLBACK ? 1 : -1;
    if (rrc == RECOMPUTE_OK) {
        long long t = agg_mono_ms();
        if (stage_with_retries(rc, run, st, sconf, own_pattern, err, errsz) == 0) {
            run->path = "memory";
            run->finished = true;
            run->messages = rc->messages;
            run->records_applied = rc->applied;
            run->records_unchanged = rc->unchanged;
            run->rejects = rc->rejects;
            run->held_partitions = 0;
            for (int p = 0; p < rc->nparts && !rc->closes; p++)
                run->held_partitions += rc->parts[p].marked;
            run->memory_bytes = rc->memory;
            run->read_ms = t - run->started_ms;
            run->write_ms = agg_mono_ms() - t;
            result = 0;
        }
    }
    if (run->tty)
        fputc('\n', stderr);
    recompute_free(rc);
    return result;
}

/* After the recomputation, before anything is compared or swapped: the replay still
 * holds its lock, was not asked to stop, and the topic still starts at offset 0 (had
 * retention deleted messages meanwhile, the recomputation may lack some). 0, or -1
 * with err. */
static int still_valid(replay_run_t *run, const worker_conf_t *conf, store_t *st, char *err,
                       size_t errsz) {
    if (!replay_go_on(run, st, (int64_t)run->messages, err, errsz))
        return -1;
    rd_kafka_t *rk = agg_kafka_reader_new(conf->bootstrap, &conf->kprops, err, errsz);
    if (!rk)
        return -1;
    int rc = topic_from_zero(rk, run, NULL, err, errsz);
    rd_kafka_destroy(rk);
    return rc;
}

int replay_main(worker_conf_t *conf) {
    char err[512], qid[AGG_QUARTER_ID_LEN + 1], staging[AGG_KEY_MAX], pat[2 * AGG_KEY_MAX];
    int year, quarter;
    if (!conf->replay_quarter ||
        agg_quarter_parse(conf->replay_quarter, strlen(conf->replay_quarter), &year, &quarter) ||
        agg_quarter_format(year, quarter, qid, sizeof qid)) {
        fprintf(stderr, "agg-worker replay: --quarter YYYY-Qn is required (got \"%s\")\n",
                conf->replay_quarter ? conf->replay_quarter : "");
        return 2;
    }
    replay_run_t run = {.live = conf, .tty = isatty(2) && !conf->quiet};
    snprintf(run.topic, sizeof run.topic, "%s%s", conf->topic_prefix, qid);
    char host[64] = "replay";
    gethostname(host, sizeof host - 1);
    snprintf(run.member, sizeof run.member, "%s:%d:replay", host, (int)getpid());
    /* Staging keys per run, not per quarter: a replay that lost its lock (stalled past
     * its expiry) and writes on can never touch the staging keys of the replay that
     * took the lock after it, nor delete them. */
    char quarter_staging[AGG_KEY_MAX];
    if (agg_key_replay_lock(run.lock_key, sizeof run.lock_key, conf->key_prefix, qid) < 0 ||
        agg_key_replay_staging(quarter_staging, sizeof quarter_staging, conf->key_prefix,
                               qid) < 0 ||
        snprintf(staging, sizeof staging, "%s:%08x%04x", quarter_staging,
                 (unsigned)agg_now_ms(), (unsigned)getpid() & 0xffff) >= (int)sizeof staging) {
        fprintf(stderr, "agg-worker replay: key prefix too long\n");
        return 2;
    }
    long long t0 = agg_mono_ms();
    store_t *st = store_new(&conf->redis);
    if (!st || store_connect(st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "agg-worker replay: redis: %s\n", st ? err : "out of memory");
        store_free(st);
        return 1;
    }
    char ttl[16];
    redisReply *r;
    snprintf(ttl, sizeof ttl, "%ld", conf->replay_lock_ms);
    const char *set[] = {"SET", run.lock_key, run.member, "NX", "PX", ttl};
    if (store_command(st, &r, err, sizeof err, 6, set) != STORE_OK ||
        r->type != REDIS_REPLY_STATUS) {
        const char *get[] = {"GET", run.lock_key};
        char holder[160] = "?";
        if (store_command(st, &r, err, sizeof err, 2, get) == STORE_OK && r->str)
            snprintf(holder, sizeof holder, "%s", r->str);
        fprintf(stderr, "agg-worker replay: a replay of %s is running (lock %s held by %s; it "
                "expires %d s after that replay stops)\n", qid, run.lock_key, holder,
                (int)(conf->replay_lock_ms / 1000));
        store_free(st);
        return 1;
    }
    run.next_renew_ms = agg_mono_ms() + conf->replay_lock_ms / 6;
    int exit_code = 1;
    strv_t staged = {0}, live = {0};
    naming_t nm = {.live_prefix = conf->key_prefix, .staging = staging, .qid = qid,
                   .topic = run.topic};
    char stpat[AGG_KEY_MAX + 2];
    snprintf(stpat, sizeof stpat, "%s:", staging);
    glob_prefix(pat, sizeof pat, stpat);

    /* Leftovers of crashed replays of this quarter (every run's: the lock is ours). */
    char allpat[2 * AGG_KEY_MAX], qpat[AGG_KEY_MAX + 2];
    snprintf(qpat, sizeof qpat, "%s:", quarter_staging);
    glob_prefix(allpat, sizeof allpat, qpat);
    if (scan_keys(st, allpat, &staged, err, sizeof err) != 0 ||
        delete_keys(st, &staged, err, sizeof err) != 0) {
        fprintf(stderr, "agg-worker replay: redis: %s\n", err);
        goto done;
    }
    strv_free(&staged);

    /* The ends, taken after the lock: no live batch of the quarter applies from now on. */
    {
        rd_kafka_t *rk = agg_kafka_reader_new(conf->bootstrap, &conf->kprops, err, sizeof err);
        if (!rk) {
            fprintf(stderr, "agg-worker replay: %s\n", err);
            goto done;
        }
        run.nparts = agg_kafka_partition_count(rk, run.topic, 30000, err, sizeof err);
        if (run.nparts <= 0) {
            fprintf(stderr, "agg-worker replay: %s\n",
                    run.nparts == 0 ? "the quarter's topic does not exist" : err);
            if (run.nparts == 0)
                fprintf(stderr, "  (topic %s)\n", run.topic);
            rd_kafka_destroy(rk);
            goto done;
        }
        run.ends = calloc((size_t)run.nparts, sizeof *run.ends);
        if (!run.ends || topic_from_zero(rk, &run, run.ends, err, sizeof err) != 0) {
            fprintf(stderr, "agg-worker replay: %s\n", run.ends ? err : "out of memory");
            rd_kafka_destroy(rk);
            goto done;
        }
        rd_kafka_destroy(rk);
        for (int p = 0; p < run.nparts; p++)
            run.total += run.ends[p];
    }

    /* The recomputation into the staging keys: in memory, else by the live path. */
    worker_conf_t sconf = *conf;
    char group[300];
    snprintf(group, sizeof group, "%s-replay-%s", conf->group, qid);
    sconf.group = group;
    sconf.key_prefix = staging;
    sconf.no_deadline_close = true;
    sconf.exit_idle_ms = 0;
    sconf.replay = &run;
    run.started_ms = agg_mono_ms();
    int staged_rc = 1;
    if (strcmp(conf->replay_path, "batches") != 0) {
        staged_rc = stage_in_memory(&run, conf, st, &sconf, pat, err, sizeof err);
        if (staged_rc < 0 || (staged_rc == 1 && strcmp(conf->replay_path, "memory") == 0)) {
            fprintf(stderr, "agg-worker replay: the recomputation of %s did not finish (%s); "
                    "the live keys are untouched, run it again%s\n", qid, err,
                    staged_rc == 1 ? " with --replay-path auto or batches" : "");
            goto cleanup;
        }
        if (staged_rc == 1) {
            agg_warn("replay_path_batches", "quarter=%s reason=\"%s\" note=\"the live path "
                     "on staging keys instead: exact, slower\"", qid, err);
            snprintf(run.fallback, sizeof run.fallback, "%s", err);
            /* Whatever the memory path read is dropped; the batches start afresh. */
            run.started_ms = agg_mono_ms();
        }
    }
    if (staged_rc == 1) {
        run.path = "batches";
        /* The staging run's events (assignments, holds, batches) are not the operator's:
         * warnings and errors only, unless -v. */
        int level = agg_log_level;
        if (!conf->verbose && agg_log_level > AGG_LOG_WARN)
            agg_log_level = AGG_LOG_WARN;
        int rc = worker_run(&sconf);
        agg_log_level = level;
        if (rc != 0 || run.lock_lost || !run.finished) {
            fprintf(stderr, "agg-worker replay: the recomputation of %s did not finish (%s); "
                    "the live keys are untouched, run it again\n", qid,
                    run.lock_lost ? "the lock expired" : rc ? "see the log" : "stopped");
            goto cleanup;
        }
    }
    double secs_run = (double)(agg_mono_ms() - run.started_ms) / 1000.0;
    if (still_valid(&run, conf, st, err, sizeof err) != 0) {
        fprintf(stderr, "agg-worker replay: the recomputation of %s is not used (%s); the "
                "live keys are untouched, run it again\n", qid, err);
        goto cleanup;
    }

    if (scan_keys(st, pat, &staged, err, sizeof err) != 0 ||
        live_keys(st, &nm, &live, err, sizeof err) != 0) {
        fprintf(stderr, "agg-worker replay: redis: %s\n", err);
        goto cleanup;
    }
    long close_diffs = compare_close_point(st, conf, staging, qid, err, sizeof err);
    if (close_diffs == -1)
        fprintf(stderr, "agg-worker replay: close point not compared: %s\n", err);

    long diffs = 0;
    char rev[32] = "";
    size_t nswapped = 0;
    if (conf->replay_verify) {
        diffs = verify(st, &nm, &live, &staged, err, sizeof err);
        if (diffs < 0) {
            fprintf(stderr, "agg-worker replay: redis: %s\n", err);
            goto cleanup;
        }
        exit_code = diffs == 0 ? 0 : 1;
    } else {
        if (swap_in(st, conf, &nm, &run, &live, &staged, rev, sizeof rev, &nswapped, err,
                    sizeof err) != 0) {
            fprintf(stderr, "agg-worker replay: %s; the live keys are untouched\n", err);
            goto cleanup;
        }
        exit_code = 0;
    }
    double secs = (double)(agg_mono_ms() - t0) / 1000.0;
    const char *cp = close_diffs == -2 ? "not closed" : close_diffs == 0 ? "identical to revision 1"
                                                                        : "differs from revision 1";
    if (conf->replay_json) {
        printf("{\"quarter\":\"%s\",\"topic\":\"%s\",\"messages\":%llu,\"records_applied\":%llu,"
               "\"records_unchanged\":%llu,\"rejects\":%llu,\"partitions\":%d,"
               "\"held_at_close_marker\":%d,\"verify\":%s,\"differences\":%ld,"
               "\"keys_swapped\":%zu,\"summary_revision\":\"%s\",\"close_point\":\"%s\","
               "\"close_point_differences\":%ld,\"path\":\"%s\",\"fallback\":\"%s\","
               "\"memory_bytes\":%zu,\"read_seconds\":%.2f,\"write_seconds\":%.2f,"
               "\"recompute_seconds\":%.2f,\"seconds\":%.2f,\"rate\":%.0f}\n",
               qid, run.topic, run.messages, run.records_applied, run.records_unchanged,
               run.rejects, run.nparts, run.held_partitions,
               conf->replay_verify ? "true" : "false", diffs, nswapped, rev, cp,
               close_diffs > 0 ? close_diffs : 0, run.path, run.fallback, run.memory_bytes,
               (double)run.read_ms / 1000.0, (double)run.write_ms / 1000.0, secs_run, secs,
               secs_run > 0 ? (double)run.messages / secs_run : 0.0);
    }
    fprintf(stderr,
            "replay %s: %llu messages of %d partitions (%llu records applied, %llu unchanged, "
            "%llu rejects, %d held at their close marker); %s; close point %s; %.2f s "
            "(%.0f messages/s)\n",
            qid, run.messages, run.nparts, run.records_applied, run.records_unchanged,
            run.rejects, run.held_partitions,
            conf->replay_verify ? (diffs ? "DIFFERENT from the live keys" : "equal to the live keys")
                                : (rev[0] ? "swapped in, summaries emitted again" : "swapped in"),
            cp, secs, secs_run > 0 ? (double)run.messages / secs_run : 0.0);
    if (diffs)
        fprintf(stderr, "replay %s: %ld differences (key field live recomputed) on stdout\n",
                qid, diffs);

cleanup:
    /* Whatever is left under the staging prefix (all of it after --verify or a failure;
     * the unmapped leftovers after a swap). */
    strv_free(&staged);
    if (scan_keys(st, pat, &staged, err, sizeof err) != 0 ||
        delete_keys(st, &staged, err, sizeof err) != 0)
        agg_warn("replay_staging_left", "prefix=%s error=\"%s\"", staging, err);
done:
    release_lock(st, &run);
    strv_free(&staged);
    strv_free(&live);
    free(run.ends);
    store_free(st);
    return exit_code;
}
