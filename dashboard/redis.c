/* The dashboard's Redis connection: read-only use, bounded in time. Every connect and
 * every command has the --redis-timeout-ms bound, so a Redis that is down or hung
 * turns into a 503 within that time, never a request that hangs. A broken connection
 * is dropped and the next request connects again. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "agg/log.h"
#include "dash.h"

struct dash_redis {
    agg_redis_url_t url;
    struct timeval timeout;
    redisContext *c; /* NULL while disconnected */
};

dash_redis_t *dash_redis_new(const agg_redis_url_t *url, long timeout_ms) {
    dash_redis_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->url = *url;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    return r;
}

static void drop(dash_redis_t *r) {
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
}

void dash_redis_free(dash_redis_t *r) {
    if (!r)
        return;
    drop(r);
    /* The password is not left behind in freed memory. */
    memset(&r->url, 0, sizeof r->url);
    free(r);
}

void dash_cmd(dash_cmd_t *c, int argc, ...) {
    va_list ap;
    va_start(ap, argc);
    c->argc = argc > DASH_CMD_ARGS ? DASH_CMD_ARGS : argc;
    for (int i = 0; i < c->argc; i++) {
        c->argv[i] = va_arg(ap, const char *);
        c->len[i] = strlen(c->argv[i]);
    }
    va_end(ap);
}

/* An error reply at connection set-up: LOADING means Redis is starting (503); anything
 * else (WRONGPASS, NOPERM) is a configuration error (500), reported as such. */
static dash_status_t setup_error(const redisReply *rep, const char *what, char *errstr,
                                 size_t errstr_size) {
    agg_fail(errstr, errstr_size, "redis %s: %.*s", what, (int)rep->len, rep->str);
    return strncmp(rep->str, "LOADING", 7) == 0 ? DASH_UNAVAILABLE : DASH_FAILED;
}

/* *fresh tells whether the connection was made now (a reused one may have gone stale,
 * e.g. across a Redis restart). */
static dash_status_t ensure_connected(dash_redis_t *r, bool *fresh, char *errstr,
                                      size_t errstr_size) {
    *fresh = r->c == NULL;
    if (r->c)
        return DASH_OK;
    redisContext *c = redisConnectWithTimeout(r->url.host, r->url.port, r->timeout);
    if (!c) {
        agg_fail(errstr, errstr_size, "redis: out of memory");
        return DASH_UNAVAILABLE;
    }
    if (c->err) {
        agg_fail(errstr, errstr_size, "redis %s:%d: %s", r->url.host, r->url.port,
                 c->errstr);
        redisFree(c);
        return DASH_UNAVAILABLE;
    }
    if (redisSetTimeout(c, r->timeout) != REDIS_OK) {
        agg_fail(errstr, errstr_size, "redis: cannot set the timeout");
        redisFree(c);
        return DASH_UNAVAILABLE;
    }
    r->c = c;
    char db[16];
    snprintf(db, sizeof db, "%d", r->url.db);
    dash_cmd_t setup[2];
    size_t n = 0;
    if (r->url.password[0]) {
        if (r->url.user[0])
            dash_cmd(&setup[n++], 3, "AUTH", r->url.user, r->url.password);
        else
            dash_cmd(&setup[n++], 2, "AUTH", r->url.password);
    }
    if (r->url.db != 0)
        dash_cmd(&setup[n++], 2, "SELECT", db);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = redisCommandArgv(c, setup[i].argc, setup[i].argv, setup[i].len);
        if (!rep) {
            agg_fail(errstr, errstr_size, "redis: %s", c->errstr);
            drop(r);
            return DASH_UNAVAILABLE;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            dash_status_t st = setup_error(rep, setup[i].argv[0], errstr, errstr_size);
            freeReplyObject(rep);
            drop(r);
            return st;
        }
        freeReplyObject(rep);
    }
    return DASH_OK;
}

/* Reads one reply; on an I/O error the connection is dropped (a half-read pipeline
 * would pair later replies with the wrong commands). */
static dash_status_t read_reply(dash_redis_t *r, redisReply **out, char *errstr,
                                size_t errstr_size) {
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
        agg_fail(errstr, errstr_size, "redis: %s",
                 r->c->errstr[0] ? r->c->errstr : "no reply");
        drop(r);
        return DASH_UNAVAILABLE;
    }
    *out = rep;
    return DASH_OK;
}

static dash_status_t command_once(dash_redis_t *r, const dash_cmd_t *cmd,
                                  redisReply **reply, bool *fresh, char *errstr,
                                  size_t errstr_size) {
    *reply = NULL;
    dash_status_t st = ensure_connected(r, fresh, errstr, errstr_size);
    if (st != DASH_OK)
        return st;
    if (redisAppendCommandArgv(r->c, cmd->argc, (const char **)cmd->argv, cmd->len) !=
        REDIS_OK) {
        agg_fail(errstr, errstr_size, "redis: %s", r->c->errstr);
        drop(r);
        return DASH_UNAVAILABLE;
    }
    st = read_reply(r, reply, errstr, errstr_size);
    if (st == DASH_OK && (*reply)->type == REDIS_REPLY_ERROR) {
        agg_fail(errstr, errstr_size, "redis %s: %.*s", cmd->argv[0], (int)(*reply)->len,
                 (*reply)->str);
        st = strncmp((*reply)->str, "LOADING", 7) == 0 ? DASH_UNAVAILABLE : DASH_FAILED;
        freeReplyObject(*reply);
        *reply = NULL;
    }
    return st;
}

static dash_status_t snapshot_once(dash_redis_t *r, const dash_cmd_t *cmds, size_t n,
                                   redisReply **exec, bool *fresh, char *errstr,
                                   size_t errstr_size) {
    *exec = NULL;
    dash_status_t st = ensure_connected(r, fresh, errstr, errstr_size);
    if (st != DASH_OK)
        return st;
    static const char *const multi[] = {"MULTI"}, *const exec_cmd[] = {"EXEC"};
    static const size_t multi_len[] = {5}, exec_len[] = {4};
    int ok = redisAppendCommandArgv(r->c, 1, (const char **)multi, multi_len) == REDIS_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = redisAppendCommandArgv(r->c, cmds[i].argc, (const char **)cmds[i].argv,
                                    cmds[i].len) == REDIS_OK;
    ok = ok &&
         redisAppendCommandArgv(r->c, 1, (const char **)exec_cmd, exec_len) == REDIS_OK;
    if (!ok) {
        agg_fail(errstr, errstr_size, "redis: %s", r->c->errstr);
        drop(r);
        return DASH_UNAVAILABLE;
    }
    /* MULTI, n QUEUED (or errors), then the EXEC array: every reply is read, whatever
     * it says, so the connection stays in step. The first error is the one reported. */
    dash_status_t first = DASH_OK;
    for (size_t i = 0; i < n + 2; i++) {
        redisReply *rep;
        st = read_reply(r, &rep, errstr, errstr_size);
        if (st != DASH_OK)
            return st; /* connection dropped */
        bool last = i == n + 1;
        if (rep->type == REDIS_REPLY_ERROR && first == DASH_OK) {
            const char *what = i == 0 ? "MULTI" : last ? "EXEC" : cmds[i - 1].argv[0];
            agg_fail(errstr, errstr_size, "redis %s: %.*s", what, (int)rep->len, rep->str);
            first = strncmp(rep->str, "LOADING", 7) == 0 ? DASH_UNAVAILABLE : DASH_FAILED;
        }
        if (last && first == DASH_OK) {
            if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
                agg_fail(errstr, errstr_size, "redis EXEC: unexpected reply");
                first = DASH_FAILED;
            } else {
                *exec = rep;
                continue;
            }
        }
        freeReplyObject(rep);
    }
    return first;
}

/* Every command here only reads, so one that failed on a reused connection is sent once
 * more on a new one: a Redis restart since the last request must not cost a 503. */
dash_status_t dash_redis_command(dash_redis_t *r, const dash_cmd_t *cmd, redisReply **reply,
                                 char *errstr, size_t errstr_size) {
    bool fresh;
    dash_status_t st = command_once(r, cmd, reply, &fresh, errstr, errstr_size);
    if (st == DASH_UNAVAILABLE && !fresh)
        st = command_once(r, cmd, reply, &fresh, errstr, errstr_size);
    return st;
}

dash_status_t dash_redis_snapshot(dash_redis_t *r, const dash_cmd_t *cmds, size_t n,
                                  redisReply **exec, char *errstr, size_t errstr_size) {
    bool fresh;
    dash_status_t st = snapshot_once(r, cmds, n, exec, &fresh, errstr, errstr_size);
    if (st == DASH_UNAVAILABLE && !fresh)
        st = snapshot_once(r, cmds, n, exec, &fresh, errstr, errstr_size);
    return st;
}
