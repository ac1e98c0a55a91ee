/* The HTTP side, on libmicrohttpd: one internal polling thread answers every request
 * in turn (each is a few Redis round trips, bounded by --redis-timeout-ms), so the
 * Redis connection needs no locking and the server's memory is bounded by
 * --max-connections x the per-connection memory limit.
 *
 * Bounds: request line and headers within MHD's per-connection memory (32 KiB, MHD
 * answers 431/414 beyond it), no request bodies (413: there are no write endpoints),
 * GET and HEAD only (405), an idle connection closed after --request-timeout-s.
 *
 * Token (--token): accepted as "Authorization: Bearer <token>", as the cookie
 * agg_token (set when the page is opened as /?token=<token>, so the page's own
 * requests and CSV links carry it without the token in every URL), or as ?token=.
 * Everything but /healthz needs it. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "agg/log.h"
#include "agg/record.h"
#include "dash.h"

#define CONN_MEMORY_LIMIT (32 * 1024)
#define PATH_MAX_LEN 512

struct dash_http {
    struct MHD_Daemon *d;
    dash_ctx_t *ctx;
    bool check_host; /* no token: refuse Host names that are not loopback or allowed */
};

/* Markers in *con_cls: first call seen / a body arrived (refused when complete). */
static int seen_marker, body_marker;

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'";

/* Queues body (mode says who owns it) with the headers every answer carries. */
static enum MHD_Result respond(struct MHD_Connection *conn, dash_handler_t h, int status,
                               const char *ctype, const char *body, size_t len,
                               enum MHD_ResponseMemoryMode mode, const char *cookie,
                               const char *disposition) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free((void *)body);
        return MHD_NO; /* MHD closes the connection */
    }
    bool ok =
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
        MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
        MHD_add_response_header(r, "Content-Security-Policy", csp) == MHD_YES;
    if (ok && status == 401)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     "Bearer realm=\"agg-dashboard\"") == MHD_YES;
    if (ok && status == 405)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_YES;
    if (ok && cookie)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie) == MHD_YES;
    if (ok && disposition)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition) ==
             MHD_YES;
    enum MHD_Result rc = ok ? MHD_queue_response(conn, (unsigned)status, r) : MHD_NO;
    MHD_destroy_response(r);
    dash_count_request(h, status);
    return rc;
}

/* An {"error": …} body. */
static enum MHD_Result respond_json(struct MHD_Connection *conn, dash_handler_t h,
                                    dash_result_t *res) {
    char *text = res->body ? json_dumps(res->body, JSON_COMPACT) : NULL;
    if (!text) {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        return respond(conn, h, 500, "application/json", oom, sizeof oom - 1,
                       MHD_RESPMEM_PERSISTENT, NULL, NULL);
    }
    return respond(conn, h, res->status, "application/json; charset=utf-8", text,
                   strlen(text), MHD_RESPMEM_MUST_FREE, NULL, NULL);
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, dash_handler_t h,
                                     int status, const char *code, const char *msg) {
    dash_result_t res = {0};
    dash_result_error(&res, status, code, "%s", msg);
    enum MHD_Result rc = respond_json(conn, h, &res);
    dash_result_clear(&res);
    return rc;
}

/* Compares in time independent of where the strings differ. */
static bool same_secret(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The agg_token value of a Cookie header, copied into buf. */
static bool cookie_token(const char *cookies, char *buf, size_t bufsz) {
    for (const char *p = cookies; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > 10 && strncmp(p, "agg_token=", 10) == 0 && len - 10 < bufsz) {
            memcpy(buf, p + 10, len - 10);
            buf[len - 10] = '\0';
            return true;
        }
        p += len;
    }
    return false;
}

typedef enum { AUTH_OK, AUTH_OK_SET_COOKIE, AUTH_DENIED } auth_t;

static auth_t authorize(struct MHD_Connection *conn, const char *token) {
    if (!token || !token[0])
        return AUTH_OK;
    const char *hdr =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (hdr && strncasecmp(hdr, "Bearer ", 7) == 0 && same_secret(hdr + 7, token))
        return AUTH_OK;
    char buf[300];
    const char *cookies =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    if (cookie_token(cookies, buf, sizeof buf) && same_secret(buf, token))
        return AUTH_OK;
    const char *arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
    if (arg && same_secret(arg, token))
        return AUTH_OK_SET_COOKIE;
    return AUTH_DENIED;
}

static dash_handler_t handler_of(const char *url) {
    if (strcmp(url, "/healthz") == 0)
        return DASH_H_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return DASH_H_METRICS;
    if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)
        return DASH_H_API;
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0 ||
        strcmp(url, "/app.js") == 0 || strcmp(url, "/style.css") == 0)
        return DASH_H_PAGE;
    return DASH_H_OTHER;
}

static enum MHD_Result serve_page(struct MHD_Connection *conn, const char *url,
                                  const char *cookie) {
    const char *body = dash_page_index_html, *ctype = "text/html; charset=utf-8";
    if (strcmp(url, "/app.js") == 0) {
        body = dash_page_app_js;
        ctype = "text/javascript; charset=utf-8";
    } else if (strcmp(url, "/style.css") == 0) {
        body = dash_page_style_css;
        ctype = "text/css; charset=utf-8";
    }
    return respond(conn, DASH_H_PAGE, 200, ctype, body, strlen(body),
                   MHD_RESPMEM_PERSISTENT, cookie, NULL);
}

static enum MHD_Result serve_api(dash_http_t *h, struct MHD_Connection *conn,
                                 const char *url) {
    const char *format = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
    bool csv = format && strcmp(format, "csv") == 0;
    if (format && !csv)
        return respond_error(conn, DASH_H_API, 400, "bad_format", "format must be csv");
    dash_result_t res;
    dash_api(h->ctx, url + 4, &res);
    if (!csv || res.status != 200) {
        enum MHD_Result rc = respond_json(conn, csv ? DASH_H_EXPORT : DASH_H_API, &res);
        dash_result_clear(&res);
        return rc;
    }
    char *text = NULL, why[200];
    size_t len = 0;
    int rc = dash_export_csv(res.table, res.body, &text, &len, why, sizeof why);
    dash_result_clear(&res);
    if (rc != 0)
        return respond_error(conn, DASH_H_EXPORT, 400, "no_csv", why);
    /* A file name from the path: /quarters/2024-Q2/goals/6.1 -> 2024-Q2-goals-6.1.csv.
     * The path was validated by dash_api (codes only have [0-9A-Za-z._-]). */
    char name[160], disp[200];
    size_t o = 0;
    const char *rest = strlen(url) > 14 ? url + 14 : ""; /* after "/api/quarters/" */
    for (const char *p = rest; *p && o + 5 < sizeof name; p++)
        name[o++] = *p == '/' ? '-' : *p;
    name[o] = '\0';
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", o ? name : "quarters");
    return respond(conn, DASH_H_EXPORT, 200, "text/csv; charset=utf-8", text, len,
                   MHD_RESPMEM_MUST_FREE, NULL, disp);
}

/* "localhost", "127.x.y.z" or "[::1]", or a name of --allow-host, with or without
 * ":port". */
static bool good_host(const char *host, const char *allow) {
    if (!host)
        return false;
    char name[64];
    size_t len = strlen(host);
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return false;
        return (size_t)(close - host) == 4 && strncmp(host, "[::1", 4) == 0 &&
               (close[1] == '\0' || close[1] == ':');
    }
    const char *colon = strchr(host, ':');
    size_t hlen = colon ? (size_t)(colon - host) : len;
    if (hlen == 0 || hlen >= sizeof name)
        return false;
    memcpy(name, host, hlen);
    name[hlen] = '\0';
    if (strcasecmp(name, "localhost") == 0 || dash_list_has(allow, name, hlen, true))
        return true;
    struct in_addr a;
    return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    (void)upload_data;
    dash_http_t *h = cls;
    if (!*con_cls) {
        *con_cls = &seen_marker;
        return MHD_YES; /* headers only; answer once the body (if any) is in */
    }
    if (*upload_data_size) {
        /* Read and dropped, never kept: the answer is 413 whatever it holds. */
        *upload_data_size = 0;
        *con_cls = &body_marker;
        return MHD_YES;
    }
    dash_handler_t handler = handler_of(url);
    if (agg_log_level >= AGG_LOG_DEBUG) {
        /* The path is the client's: quotes and control bytes are not let into the log. */
        char path[201];
        size_t o = 0;
        for (const char *p = url; *p && o + 1 < sizeof path; p++)
            path[o++] = (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) ? '?' : *p;
        path[o] = '\0';
        agg_debug("request", "method=%.10s path=\"%s\"", method, path);
    }
    if (*con_cls == &body_marker)
        return respond_error(conn, handler, 413, "body_not_allowed",
                             "requests have no body: there are no write endpoints");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_error(conn, handler, 405, "method_not_allowed", "only GET and HEAD");
    if (strlen(url) > PATH_MAX_LEN)
        return respond_error(conn, handler, 414, "uri_too_long", "path too long");
    if (handler == DASH_H_HEALTHZ) {
        static const char ok[] = "ok\n";
        return respond(conn, handler, 200, "text/plain; charset=utf-8", ok, sizeof ok - 1,
                       MHD_RESPMEM_PERSISTENT, NULL, NULL);
    }
    /* DNS rebinding: a web page the user opens could point its own name at 127.0.0.1
     * and read a dashboard that has no token. Such a request carries that name as its
     * Host; a browser that came here on purpose says localhost, an address, or a name
     * of --allow-host. (With a token the page has no cookie for a foreign name.) */
    const char *host =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (h->check_host && !good_host(host, h->ctx->conf->allow_hosts))
        return respond_error(conn, handler, 403, "bad_host",
                             "Host must be localhost, a loopback address or a name of "
                             "--allow-host");
    auth_t auth = authorize(conn, h->ctx->conf->token);
    if (auth == AUTH_DENIED)
        return respond_error(conn, handler, 401, "unauthorized",
                             "a valid bearer token is required");
    char cookie[400];
    const char *set_cookie = NULL;
    if (auth == AUTH_OK_SET_COOKIE) {
        snprintf(cookie, sizeof cookie, "agg_token=%s; Path=/; HttpOnly; SameSite=Strict",
                 h->ctx->conf->token);
        set_cookie = cookie;
    }
    switch (handler) {
    case DASH_H_PAGE:
        return serve_page(conn, url, set_cookie);
    case DASH_H_API:
        return serve_api(h, conn, url);
    case DASH_H_METRICS: {
        char *text = NULL, why[200];
        size_t len = 0;
        if (dash_metrics_text(h->ctx, &text, &len, why, sizeof why) != DASH_OK)
            return respond_error(conn, handler, 500, "internal", why);
        return respond(conn, handler, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                       len, MHD_RESPMEM_MUST_FREE, NULL, NULL);
    }
    default:
        return respond_error(conn, DASH_H_OTHER, 404, "not_found", "no such page");
    }
}

/* "host:port" or "[v6]:port" → a socket address. */
/* getaddrinfo takes "99999" and wraps it to a 16-bit port: the number is checked here. */
static int parse_listen(const char *listen, struct sockaddr_storage *sa, bool *v6,
                        char *errstr, size_t errstr_size) {
    char host[256], port[16];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= sizeof port)
        return agg_fail(errstr, errstr_size,
                        "--listen: expected host:port, e.g. 127.0.0.1:8080");
    const char *h = listen;
    size_t hlen = (size_t)(colon - listen);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host)
        return agg_fail(errstr, errstr_size, "--listen: bad host");
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    strcpy(port, colon + 1);
    long pnum;
    char why[96];
    if (agg_parse_int_range(port, strlen(port), 1, 65535, &pnum, why, sizeof why) != 0 ||
        port[0] == '-' || port[0] == '+')
        return agg_fail(errstr, errstr_size, "--listen: port must be 1 to 65535");
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        return agg_fail(errstr, errstr_size, "--listen %s: %s", listen, gai_strerror(rc));
    if (ai->ai_addrlen > sizeof *sa) {
        freeaddrinfo(ai);
        return agg_fail(errstr, errstr_size, "--listen: address too long");
    }
    memcpy(sa, ai->ai_addr, ai->ai_addrlen);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '"'))
        msg[--n] = '\0';
    agg_warn("http", "message=\"%s\"", msg);
}

int dash_http_check_listen(const char *listen, char *errstr, size_t errstr_size) {
    struct sockaddr_storage sa;
    bool v6;
    return parse_listen(listen, &sa, &v6, errstr, errstr_size);
}

dash_http_t *dash_http_start(dash_ctx_t *ctx, char *errstr, size_t errstr_size) {
    struct sockaddr_storage sa;
    bool v6 = false;
    if (parse_listen(ctx->conf->listen, &sa, &v6, errstr, errstr_size) != 0)
        return NULL;
    dash_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        agg_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    h->ctx = ctx;
    /* Without a token the Host check is the only guard against DNS rebinding, wherever
     * the server listens (a container on 0.0.0.0 is still reached as localhost). */
    h->check_host = !(ctx->conf->token && ctx->conf->token[0]);
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    uint16_t port = ntohs(v6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                             : ((struct sockaddr_in *)&sa)->sin_port);
    h->d = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)ctx->conf->request_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)ctx->conf->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_END);
    if (!h->d) {
        agg_fail(errstr, errstr_size,
                 "cannot listen on %s (in use, or not an address here)", ctx->conf->listen);
        free(h);
        return NULL;
    }
    return h;
}

void dash_http_stop(dash_http_t *h) {
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
