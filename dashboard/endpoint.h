/* Inside the API (api.c, quarter.c, rank.c, completeness.c, answer.c): the quarter an
 * endpoint answers about and the helpers its answer is built with. Not used outside
 * these files; dash.h is the dashboard's interface. */
#ifndef AGG_DASH_ENDPOINT_H
#define AGG_DASH_ENDPOINT_H

#include "agg/keys.h"
#include "agg/period.h"
#include "dash.h"

/* A region of the quarter: expected (reference list) or reported (agg:Q:regions). */
typedef struct {
    const char *code;
    long long last_ms;  /* score in agg:Q:regions */
    long long first_ms; /* score in agg:Q:regions:first */
    bool has_first;
    bool reported;
    const dash_region_ref_t *ref; /* names; NULL when not in the reference list */
} dash_qregion_t;

typedef struct {
    char id[AGG_QUARTER_ID_LEN + 1];
    int year, quarter;
    redisReply *snap; /* owns every string below */
    const redisReply *state;
    dash_qregion_t *regions; /* reference order, then the others in code order */
    size_t nregions, nreported;
    const char **goals; /* reading order */
    size_t ngoals;
    bool has_first; /* agg:Q:regions:first exists (timeliness is known) */
    /* key buffers of the second snapshot */
    char (*keys)[AGG_KEY_MAX];
    size_t nkeys, keys_cap;
} dash_quarter_t;

/* ---- quarter.c ---- */

/* Reads the quarter's lists (first snapshot). Returns 0 (the caller then frees q with
 * dash_quarter_free), or -1 with res set (400 malformed id, 404 unknown quarter, 503
 * Redis down) and nothing left to free. */
int dash_quarter_load(dash_ctx_t *ctx, const char *id, dash_quarter_t *q,
                      dash_result_t *res);
void dash_quarter_free(dash_quarter_t *q);
const char *dash_state_field(const dash_quarter_t *q, const char *name);
bool dash_state_int(const dash_quarter_t *q, const char *name, long long *v);
dash_qregion_t *dash_find_region(dash_quarter_t *q, const char *code);
/* A sorted-set score as an integer (the scores here are ms and x100 values). */
int dash_score_of(const redisReply *s, long long *v);
/* The close state of SPEC 8 as JSON: status "open" while agg:Q:state lacks it. */
json_t *dash_state_json(const dash_quarter_t *q, bool *ok);

/* Second snapshot: dash_cmds_alloc gives room for n commands (and their key names),
 * dash_add_scope/dash_add_rank append one each (-1 when a key does not fit or the room
 * is used up), dash_run_cmds runs them and frees the array. */
int dash_keys_alloc(dash_quarter_t *q, size_t n, dash_result_t *res);
dash_cmd_t *dash_cmds_alloc(dash_quarter_t *q, size_t n, dash_result_t *res);
int dash_add_scope(const dash_ctx_t *ctx, dash_quarter_t *q, dash_cmd_t *cmds, size_t *n,
                   const char *region, const char *goal);
int dash_add_rank(const dash_ctx_t *ctx, dash_quarter_t *q, dash_cmd_t *cmds, size_t *n,
                  const char *goal);
/* Ownership of the EXEC reply passes to the caller; NULL with res set. */
redisReply *dash_run_cmds(dash_ctx_t *ctx, dash_cmd_t *cmds, size_t c, int bad,
                          dash_result_t *res);
redisReply *dash_snapshot2(dash_ctx_t *ctx, const dash_cmd_t *cmds, size_t n,
                           dash_result_t *res);

/* ---- answer.c ---- */

void dash_result_redis(dash_result_t *res, dash_status_t st, const char *why);
/* Insertions that turn *ok false instead of failing silently (v is taken either way). */
void dash_put(json_t *obj, const char *key, json_t *v, bool *ok);
void dash_push(json_t *arr, json_t *v, bool *ok);
json_t *dash_int_or_null(bool have, long long v);
/* Makes b the 200 answer, or drops it keeping the error already in res. Takes b. */
void dash_answer(dash_result_t *res, json_t *b, bool ok, dash_table_t table);
/* A scope reply as JSON (null when the hash is empty); *ok false and res set when
 * Redis holds something the workers never write. */
json_t *dash_scope_of(const redisReply *r, dash_result_t *res, bool *ok);
json_t *dash_region_json(const dash_qregion_t *r);
json_t *dash_goal_json(const dash_ctx_t *ctx, const char *code);

/* ---- the endpoints of rank.c and completeness.c ---- */

void dash_api_region(dash_ctx_t *ctx, dash_quarter_t *q, const char *code,
                     dash_result_t *res);
void dash_api_goal(dash_ctx_t *ctx, dash_quarter_t *q, const char *code,
                   dash_result_t *res);
void dash_api_completeness(dash_ctx_t *ctx, dash_quarter_t *q, dash_result_t *res);

#endif
