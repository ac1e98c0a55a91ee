/* store.c: the worker's Redis connection.
 *
 * Errors are classified once, here: a lost connection, LOADING, BUSY, OOM and the like
 * are transient (the caller stalls and retries the same batch: its offsets have not
 * moved, so nothing is lost or applied twice); anything else -- bad credentials, a key
 * of the wrong type, a script runtime error -- is fatal, because retrying could not
 * succeed or, for a script that failed half way, could apply a batch twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker.h"

extern const char agg_apply_lua[];
extern const char agg_amend_lua[];
extern const char agg_swap_lua[];

struct store {
    agg_redis_url_t url;
    redisContext *c;
    redisReply *last; /* reply handed out by store_reply(), freed on the next call */
    char sha[41];       /* apply.lua */
    char amend_sha[41]; /* amend.lua */
    char swap_sha[41];  /* swap.lua */
    unsigned long long roundtrips;
    unsigned long long generation; /* successful connects so far */
    /* The server answered READONLY or MASTERDOWN: it is (no longer) the primary. The
     * next store_connect() drops this connection, so that a failover's new primary
     * behind the same address (a proxy, a moved DNS name) is found. */
    bool not_primary;
};

store_t *store_new(const agg_redis_url_t *url) {
    store_t *s = calloc(1, sizeof *s);
    if (s)
        s->url = *url;
    return s;
}

static void drop_last(store_t *s) {
    if (s->last) {
        freeReplyObject(s->last);
        s->last = NULL;
    }
}

static void disconnect(store_t *s) {
    drop_last(s);
    if (s->c) {
        redisFree(s->c);
        s->c = NULL;
    }
}

void store_free(store_t *s) {
    if (!s)
        return;
    disconnect(s);
    free(s);
}

bool store_connected(const store_t *s) { return s->c != NULL; }
void store_disconnect(store_t *s) { disconnect(s); }
unsigned long long store_roundtrips(const store_t *s) { return s->roundtrips; }
unsigned long long store_generation(const store_t *s) { return s->generation; }

static store_rc_t io_error(store_t *s, const char *what, char *errstr, size_t errstr_size) {
    snprintf(errstr, errstr_size, "redis %s:%d %s: %s", s->url.host, s->url.port, what,
             s->c && s->c->errstr[0] ? s->c->errstr : "connection lost");
    disconnect(s);
    return STORE_TRANSIENT;
}

store_rc_t store_classify_error(store_t *s, const redisReply *reply, char *errstr,
                                size_t errstr_size) {
    static const char *const transient[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN",
                                            "READONLY", "OOM", "CLUSTERDOWN", NULL};
    const char *msg = reply && reply->str ? reply->str : "unexpected reply";
    snprintf(errstr, errstr_size, "redis: %s", msg);
    if (strncmp(msg, "NOSCRIPT", 8) == 0) {
        /* Redis restarted or SCRIPT FLUSH: reload and let the caller retry. */
        s->sha[0] = '\0';
        return STORE_TRANSIENT;
    }
    if (strncmp(msg, "READONLY", 8) == 0 || strncmp(msg, "MASTERDOWN", 10) == 0)
        s->not_primary = true;
    for (const char *const *t = transient; *t; t++)
        if (strncmp(msg, *t, strlen(*t)) == 0)
            return STORE_TRANSIENT;
    return STORE_FATAL;
}

/* One command, one reply; used for the connection handshake only. */
static store_rc_t command(store_t *s, redisReply **out, char *errstr, size_t errstr_size,
                          int argc, const char **argv) {
    redisReply *r = redisCommandArgv(s->c, argc, argv, NULL);
    s->roundtrips++;
    if (!r)
        return io_error(s, argv[0], errstr, errstr_size);
    if (r->type == REDIS_REPLY_ERROR) {
        store_rc_t rc = store_classify_error(s, r, errstr, errstr_size);
        freeReplyObject(r);
        return rc;
    }
    *out = r;
    return STORE_OK;
}

store_rc_t store_command(store_t *s, redisReply **reply, char *errstr, size_t errstr_size,
                         int argc, const char **argv) {
    drop_last(s);
    if (!s->c)
        return io_error(s, argv[0], errstr, errstr_size);
    redisReply *r = NULL;
    store_rc_t rc = command(s, &r, errstr, errstr_size, argc, argv);
    if (rc == STORE_OK)
        s->last = r;
    *reply = rc == STORE_OK ? r : NULL;
    return rc;
}

/* SCRIPT LOAD of one script; its sha into sha[41]. */
static store_rc_t load_script(store_t *s, const char *script, char *sha, char *errstr,
                              size_t errstr_size) {
    redisReply *r = NULL;
    const char *load[] = {"SCRIPT", "LOAD", script};
    store_rc_t rc = command(s, &r, errstr, errstr_size, 3, load);
    if (rc != STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        snprintf(errstr, errstr_size, "redis: SCRIPT LOAD returned no sha");
        freeReplyObject(r);
        return STORE_FATAL;
    }
    memcpy(sha, r->str, 40);
    sha[40] = '\0';
    freeReplyObject(r);
    return STORE_OK;
}

store_rc_t store_connect(store_t *s, char *errstr, size_t errstr_size) {
    redisReply *r = NULL;
    store_rc_t rc;

    drop_last(s);
    if (s->c && s->not_primary) {
        agg_warn("redis_not_primary", "host=%s port=%d action=reconnect", s->url.host,
                 s->url.port);
        disconnect(s);
    }
    s->not_primary = false;
    if (s->c && s->sha[0])
        return STORE_OK;
    if (!s->c) {
        struct timeval tv = {2, 0};
        s->c = redisConnectWithTimeout(s->url.host, s->url.port, tv);
        if (!s->c)
            return io_error(s, "connect", errstr, errstr_size);
        if (s->c->err)
            return io_error(s, "connect", errstr, errstr_size);
        /* Bound every command so a hung server becomes a retry, not a hung worker. */
        struct timeval cmd_tv = {30, 0};
        if (redisSetTimeout(s->c, cmd_tv) != REDIS_OK)
            return io_error(s, "set timeout", errstr, errstr_size);
        if (s->url.password[0]) {
            const char *auth_user[] = {"AUTH", s->url.user, s->url.password};
            const char *auth_pass[] = {"AUTH", s->url.password};
            rc = s->url.user[0] ? command(s, &r, errstr, errstr_size, 3, auth_user)
                                : command(s, &r, errstr, errstr_size, 2, auth_pass);
            if (rc != STORE_OK) {
                disconnect(s);
                return rc;
            }
            freeReplyObject(r);
        }
        if (s->url.db != 0) {
            char db[16];
            snprintf(db, sizeof db, "%d", s->url.db);
            const char *sel[] = {"SELECT", db};
            if ((rc = command(s, &r, errstr, errstr_size, 2, sel)) != STORE_OK) {
                disconnect(s);
                return rc;
            }
            freeReplyObject(r);
        }
    }
    if ((rc = load_script(s, agg_apply_lua, s->sha, errstr, errstr_size)) != STORE_OK ||
        (rc = load_script(s, agg_amend_lua, s->amend_sha, errstr, errstr_size)) != STORE_OK ||
        (rc = load_script(s, agg_swap_lua, s->swap_sha, errstr, errstr_size)) != STORE_OK) {
        s->sha[0] = '\0';
        disconnect(s);
        return rc;
    }
    s->generation++;
    agg_info("redis_connected", "host=%s port=%d db=%d", s->url.host, s->url.port, s->url.db);
    return STORE_OK;
}

store_rc_t store_append(store_t *s, int argc, const char **argv, const size_t *argvlen,
                        char *errstr, size_t errstr_size) {
    drop_last(s);
    if (!s->c)
        return io_error(s, "append", errstr, errstr_size);
    if (redisAppendCommandArgv(s->c, argc, argv, argvlen) != REDIS_OK)
        return io_error(s, argv[0], errstr, errstr_size);
    return STORE_OK;
}

store_rc_t store_append_script(store_t *s, store_script_t which, int argc,
                               const char **argv, const size_t *argvlen, char *errstr,
                               size_t errstr_size) {
    const char *sha = which == STORE_SCRIPT_AMEND  ? s->amend_sha
                      : which == STORE_SCRIPT_SWAP ? s->swap_sha
                                                   : s->sha;
    drop_last(s);
    if (!s->c || !s->sha[0])
        return io_error(s, "evalsha", errstr, errstr_size);
    /* EVALSHA sha numkeys=0 args...: hiredis copies the arguments while appending, so a
     * temporary vector is enough. */
    size_t n = (size_t)argc + 3;
    const char **v = malloc(n * sizeof *v);
    size_t *l = malloc(n * sizeof *l);
    store_rc_t rc = STORE_OK;
    if (!v || !l) {
        free(v);
        free(l);
        snprintf(errstr, errstr_size, "out of memory building EVALSHA");
        return STORE_FATAL;
    }
    v[0] = "EVALSHA";
    l[0] = 7;
    v[1] = sha;
    l[1] = 40;
    v[2] = "0";
    l[2] = 1;
    memcpy(v + 3, argv, (size_t)argc * sizeof *v);
    memcpy(l + 3, argvlen, (size_t)argc * sizeof *l);
    if (redisAppendCommandArgv(s->c, (int)n, v, l) != REDIS_OK)
        rc = io_error(s, "EVALSHA", errstr, errstr_size);
    free(v);
    free(l);
    return rc;
}

store_rc_t store_reply(store_t *s, redisReply **reply, char *errstr, size_t errstr_size) {
    void *r = NULL;
    drop_last(s);
    if (!s->c)
        return io_error(s, "reply", errstr, errstr_size);
    if (redisGetReply(s->c, &r) != REDIS_OK || !r)
        return io_error(s, "reply", errstr, errstr_size);
    s->roundtrips++;
    s->last = r;
    *reply = r;
    return STORE_OK;
}

store_rc_t store_read_offset(store_t *s, const char *offsets_key, int32_t partition,
                             int64_t *out, char *errstr, size_t errstr_size) {
    char part[16];
    redisReply *r = NULL;
    snprintf(part, sizeof part, "%d", (int)partition);
    const char *argv[] = {"HGET", offsets_key, part};
    store_rc_t rc = command(s, &r, errstr, errstr_size, 3, argv);
    if (rc != STORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        *out = -1;
    } else if (r->type == REDIS_REPLY_STRING) {
        char *end = NULL;
        long long v = strtoll(r->str, &end, 10);
        if (end == r->str || *end != '\0' || v < 0) {
            snprintf(errstr, errstr_size, "corrupt stored offset %s[%s]: %s", offsets_key,
                     part, r->str);
            freeReplyObject(r);
            return STORE_FATAL;
        }
        *out = v;
    } else {
        snprintf(errstr, errstr_size, "unexpected reply to HGET %s", offsets_key);
        freeReplyObject(r);
        return STORE_FATAL;
    }
    freeReplyObject(r);
    return STORE_OK;
}
