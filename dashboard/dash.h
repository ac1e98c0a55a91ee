/* agg-dashboard: the head-office page, a JSON API and Prometheus metrics over the
 * public Redis keys of SPEC section 6/8. Read-only: no code path here writes to Redis.
 *
 * Data path of a request: http.c (libmicrohttpd: limits, token, routing) → api.c (the
 * endpoints, one consistent Redis snapshot each through redis.c) → scope.c (a scope
 * hash as JSON) → JSON body, or export.c (the same JSON as CSV), or metrics.c + prom.c
 * (the workers' metrics in the Prometheus text format). */
#ifndef AGG_DASH_H
#define AGG_DASH_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agg/config.h"
#include "agg/regions.h"

/* ---- configuration (main.c) ---- */

typedef struct {
    const char *listen; /* host:port, [v6]:port */
    const char *redis_url;
    const char *key_prefix;
    const char *token;        /* NULL or "" = no token required */
    const char *allow_hosts;  /* without a token: Host names accepted besides loopback */
    const char *regions_file; /* NULL = the built-in reference list */
    const char *goals_file;   /* NULL = the built-in reference/goals.csv */
    long redis_timeout_ms;    /* connect and command timeout of every Redis call */
    long request_timeout_s;   /* idle bound of one HTTP connection */
    long max_connections;
    long poll_ms;      /* how often the page polls */
    long deadline_day; /* default close deadline: end of this day of the next month */
    bool quiet, verbose;
    agg_redis_url_t redis;
} dash_conf_t;

/* ---- reference names (reference.c) ---- */

#define DASH_NAME_MAX 128
#define DASH_GOALS_MAX 256

typedef struct {
    char code[33];
    char name_mn[DASH_NAME_MAX];
    char name_en[DASH_NAME_MAX];
} dash_region_ref_t;

typedef struct {
    char code[33];
    char title_en[256];
} dash_goal_ref_t;

typedef struct {
    agg_regions_t expected; /* the regions that must report (SPEC 8 "regions expected") */
    size_t nregions;        /* names, in reference order */
    dash_region_ref_t region[AGG_REGIONS_MAX];
    size_t ngoals;
    dash_goal_ref_t goal[DASH_GOALS_MAX];
} dash_ref_t;

/* Loads region names from the CSV (columns code, and name_mn/name_en when present) and
 * goal titles (columns code, title_en). A NULL path means the built-in file. Returns 0
 * or -1 with "name:line: reason" in errstr. */
int dash_ref_load(dash_ref_t *ref, const char *regions_path, const char *goals_path,
                  char *errstr, size_t errstr_size);
/* NULL when the code is not in the reference list. */
const dash_region_ref_t *dash_ref_region(const dash_ref_t *ref, const char *code);
const dash_goal_ref_t *dash_ref_goal(const dash_ref_t *ref, const char *code);
extern const char dash_goals_csv[];

/* ---- Redis, read-only (redis.c) ---- */

typedef enum {
    DASH_OK = 0,
    DASH_UNAVAILABLE, /* cannot connect, I/O error, timeout, LOADING: HTTP 503 */
    DASH_FAILED,      /* Redis answered with an error (NOPERM, WRONGTYPE): HTTP 500 */
} dash_status_t;

typedef struct dash_redis dash_redis_t;

#define DASH_CMD_ARGS 8
typedef struct {
    int argc;
    const char *argv[DASH_CMD_ARGS];
    size_t len[DASH_CMD_ARGS];
} dash_cmd_t;

/* Ownership: the caller frees the handle with dash_redis_free. It does not keep url. */
dash_redis_t *dash_redis_new(const agg_redis_url_t *url, long timeout_ms);
void dash_redis_free(dash_redis_t *r);
/* Builds a command from NUL-terminated strings (at most DASH_CMD_ARGS). The strings must
 * outlive the command. */
void dash_cmd(dash_cmd_t *c, int argc, ...);
/* Runs cmds inside MULTI/EXEC, so that every reply comes from one moment: a response
 * never mixes a scope from before a batch with another from after it. On DASH_OK
 * *exec is the EXEC array (element i answers cmds[i]); ownership passes to the caller
 * (freeReplyObject). An error reply inside the array is the caller's to judge. */
dash_status_t dash_redis_snapshot(dash_redis_t *r, const dash_cmd_t *cmds, size_t n,
                                  redisReply **exec, char *errstr, size_t errstr_size);
/* One command outside a transaction (SCAN cannot run inside MULTI usefully). Ownership
 * of *reply passes to the caller. */
dash_status_t dash_redis_command(dash_redis_t *r, const dash_cmd_t *cmd, redisReply **reply,
                                 char *errstr, size_t errstr_size);

/* ---- scope hashes (scope.c) ---- */

/* "12345" x100 → "123.45", "-5" → "-0.05". Returns the length, or -1 when buf is too
 * small. */
int dash_x100_format(long long v, char *buf, size_t bufsz);
/* Strict decimal integer (optional '-', digits only, fits long long). */
int dash_parse_ll(const char *s, size_t len, long long *out);
/* The JSON object of a scope hash (SPEC 5) from an HGETALL reply; NULL for an empty
 * hash (the scope does not exist). Unknown fields are left out; a field that should be
 * an integer and is not makes it fail (-1, *out NULL, reason in errstr: Redis holds
 * something the workers did not write). Ownership of *out passes to the caller. */
int dash_scope_json(const redisReply *hgetall, json_t **out, char *errstr,
                    size_t errstr_size);

/* ---- comma-separated lists (list.c) ---- */

/* s (len bytes) is one of the entries of list (NULL = empty). */
bool dash_list_has(const char *list, const char *s, size_t len, bool ignore_case);

/* ---- the API (api.c) ---- */

typedef enum {
    DASH_TABLE_NONE = 0,
    DASH_TABLE_QUARTERS,
    DASH_TABLE_QUARTER,
    DASH_TABLE_MATRIX,
    DASH_TABLE_REGION,
    DASH_TABLE_GOAL,
    DASH_TABLE_COMPLETENESS,
} dash_table_t;

typedef struct {
    const dash_conf_t *conf;
    const dash_ref_t *ref;
    dash_redis_t *redis;
} dash_ctx_t;

/* One answer of the API: HTTP status and a JSON body (an {"error":…} object for
 * statuses other than 200). body is owned by the result (dash_result_clear). table says
 * which CSV export the body can be turned into. */
typedef struct {
    int status;
    json_t *body;
    dash_table_t table;
} dash_result_t;

/* path is the part after "/api" ("/quarters/2024-Q2/matrix"). */
void dash_api(dash_ctx_t *ctx, const char *path, dash_result_t *res);
void dash_result_error(dash_result_t *res, int status, const char *code, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
void dash_result_clear(dash_result_t *res);
/* Goal codes in reading order: numeric parts compared as numbers ("6.2" < "10"). */
int dash_goal_cmp(const char *a, const char *b);

/* ---- CSV exports (export.c) ---- */

/* One CSV cell: a JSON integer or a decimal string of our own ("-12.50") is written as
 * a number; any other text is quoted when it needs it (RFC 4180) and, when it begins
 * with = + - @ or a tab/CR (what a spreadsheet would run as a formula), prefixed
 * with a single quote. null is an empty cell. Returns 0 or -1 on a write error. */
int dash_csv_cell(FILE *out, const json_t *v);
bool dash_csv_is_number(const char *s, size_t len);
/* The table of an API body as CSV (header line, CRLF line ends). Ownership of *csv
 * (malloc'd, *len bytes, NUL-terminated) passes to the caller. */
int dash_export_csv(dash_table_t table, const json_t *body, char **csv, size_t *len,
                    char *errstr, size_t errstr_size);

/* ---- Prometheus text format (prom.c) ---- */

/* "# HELP name help" and "# TYPE name type" lines. */
int dash_prom_header(FILE *out, const char *name, const char *type, const char *help);
/* name{label="value",...} value; labels is NULL-terminated pairs (name, value). Label
 * values are escaped (\\, \", \n) as the format requires. */
int dash_prom_sample(FILE *out, const char *name, const char *const *labels,
                     long long value);
int dash_prom_escape(FILE *out, const char *s);

/* ---- /metrics (metrics.c) ---- */

typedef enum {
    DASH_H_PAGE = 0,
    DASH_H_API,
    DASH_H_EXPORT,
    DASH_H_METRICS,
    DASH_H_HEALTHZ,
    DASH_H_OTHER,
    DASH_H_COUNT
} dash_handler_t;

/* Counts one answered request (thread-safe). */
void dash_count_request(dash_handler_t h, int status);
/* The whole /metrics body: every worker's metrics found under
 * <prefix>:internal:metrics:*, then the dashboard's own counters. Ownership of *text
 * (malloc'd) passes to the caller. */
dash_status_t dash_metrics_text(dash_ctx_t *ctx, char **text, size_t *len, char *errstr,
                                size_t errstr_size);
/* The worker part, from the JSON documents the workers store (pure: tested alone). */
int dash_metrics_workers(FILE *out, json_t *const *docs, size_t n);

/* ---- HTTP (http.c) ---- */

typedef struct dash_http dash_http_t;
/* --listen is a host:port this machine can resolve: 0, or -1 with the reason (a usage
 * error, exit 2, while a failure to bind later is exit 1). */
int dash_http_check_listen(const char *listen, char *errstr, size_t errstr_size);
/* Starts the server (its own thread). Ownership: the caller stops it with
 * dash_http_stop; ctx must outlive it. */
dash_http_t *dash_http_start(dash_ctx_t *ctx, char *errstr, size_t errstr_size);
void dash_http_stop(dash_http_t *h);

/* The embedded page (build/gen/dashboard_embed.c from dashboard/page/). */
extern const char dash_page_index_html[];
extern const char dash_page_app_js[];
extern const char dash_page_style_css[];

#endif
