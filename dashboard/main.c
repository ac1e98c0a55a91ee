/* agg-dashboard: the head-office page, its JSON API and /metrics over Redis.
 *
 *   agg-dashboard [options]      serve until SIGTERM/SIGINT
 *
 * Exit codes: 0 stopped, 1 fatal error (cannot listen), 2 usage/configuration. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agg/log.h"
#include "dash.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static dash_conf_t conf;

/* The one table of options: parsing, --help and the README's list come from it. */
static const agg_opt_t options[] = {
    {"listen", 'l', "AGG_DASHBOARD_LISTEN", AGG_OPT_STRING, "127.0.0.1:8080", 0, 0,
     "address to serve on, host:port ([::1]:8080 for IPv6); loopback unless told",
     &conf.listen},
    {"redis-url", 'r', "AGG_REDIS_URL", AGG_OPT_STRING, "redis://127.0.0.1:6379/0", 0, 0,
     "Redis: redis://[user:pass@]host:port[/db] (a read-only ACL user suffices)",
     &conf.redis_url},
    {"key-prefix", 0, "AGG_KEY_PREFIX", AGG_OPT_STRING, "agg", 0, 0,
     "prefix of every Redis key", &conf.key_prefix},
    {"token", 0, "AGG_DASHBOARD_TOKEN", AGG_OPT_STRING, NULL, 0, 0,
     "bearer token required for everything but /healthz (default: none)", &conf.token},
    {"allow-host", 0, "AGG_DASHBOARD_ALLOW_HOST", AGG_OPT_STRING, NULL, 0, 0,
     "without a token, Host names accepted besides localhost and loopback addresses "
     "(comma-separated)",
     &conf.allow_hosts},
    {"regions", 0, "AGG_REGIONS", AGG_OPT_STRING, NULL, 0, 0,
     "regions expected to report, CSV with code[,name_mn,name_en] (default: built in)",
     &conf.regions_file},
    {"goals", 0, "AGG_GOALS", AGG_OPT_STRING, NULL, 0, 0,
     "goal titles, CSV with code,title_en (default: built in)", &conf.goals_file},
    {"redis-timeout-ms", 0, "AGG_DASHBOARD_REDIS_TIMEOUT_MS", AGG_OPT_INT, "1000", 10,
     60000, "bound of every Redis connect and command (then 503)", &conf.redis_timeout_ms},
    {"request-timeout-s", 0, "AGG_DASHBOARD_REQUEST_TIMEOUT_S", AGG_OPT_INT, "10", 1, 3600,
     "an idle HTTP connection is closed after this long", &conf.request_timeout_s},
    {"max-connections", 0, "AGG_DASHBOARD_MAX_CONNECTIONS", AGG_OPT_INT, "64", 1, 10000,
     "concurrent HTTP connections", &conf.max_connections},
    {"poll-ms", 0, "AGG_DASHBOARD_POLL_MS", AGG_OPT_INT, "5000", 500, 600000,
     "how often the page refreshes its figures", &conf.poll_ms},
    {"deadline-day", 0, "AGG_DEADLINE_DAY", AGG_OPT_INT, "10", 1, 31,
     "on time = first record by 00:00 UTC+8 on this day of the month after the quarter "
     "(the workers' rule) unless agg:Q:state has deadline_ms",
     &conf.deadline_day},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log warnings and errors only",
     &conf.quiet},
    {"verbose", 'v', NULL, AGG_OPT_FLAG, NULL, 0, 0, "log every request", &conf.verbose},
    {0},
};

static const char description[] =
    "\n"
    "Serves the head-office page (/), the JSON API (/api/quarters...), CSV exports\n"
    "(?format=csv), Prometheus metrics (/metrics) and /healthz, reading Redis only.\n"
    "Exit codes: 0 stopped, 1 fatal error, 2 usage.\n";

/* The token travels in a cookie and a header: only characters safe in both. */
static bool token_ok(const char *t) {
    size_t len = strlen(t);
    if (len == 0 || len > 256)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._~+/=", c)))
            return false;
    }
    return true;
}

int main(int argc, char **argv) {
    char err[512];
    int first_arg = 0;
    int rc = agg_opts_parse(options, argc, argv, &first_arg, NULL, err, sizeof err);
    if (rc == 1) {
        fputs(description, stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "agg-dashboard: %s\n(try --help)\n", err);
        return 2;
    }
    if (first_arg < argc) {
        fprintf(stderr, "agg-dashboard: unexpected argument '%s'\n(try --help)\n",
                argv[first_arg]);
        return 2;
    }
    if (conf.quiet)
        agg_log_level = AGG_LOG_WARN;
    if (conf.verbose)
        agg_log_level = AGG_LOG_DEBUG;
    if (agg_redis_url_parse(conf.redis_url, &conf.redis, err, sizeof err) != 0) {
        fprintf(stderr, "agg-dashboard: --redis-url: %s\n", err);
        return 2;
    }
    if (agg_check_key_prefix(conf.key_prefix, "", err, sizeof err) != 0) {
        fprintf(stderr, "agg-dashboard: %s\n", err);
        return 2;
    }
    if (dash_http_check_listen(conf.listen, err, sizeof err) != 0) {
        fprintf(stderr, "agg-dashboard: %s\n", err);
        return 2;
    }
    if (conf.token && conf.token[0] && !token_ok(conf.token)) {
        fprintf(stderr,
                "agg-dashboard: --token: 1 to 256 characters of [A-Za-z0-9-._~+/=]\n");
        return 2;
    }
    static dash_ref_t ref; /* large: not on the stack */
    if (dash_ref_load(&ref, conf.regions_file, conf.goals_file, err, sizeof err) != 0) {
        fprintf(stderr, "agg-dashboard: %s\n", err);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        perror("agg-dashboard: sigaction");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    dash_ctx_t ctx = {.conf = &conf, .ref = &ref};
    ctx.redis = dash_redis_new(&conf.redis, conf.redis_timeout_ms);
    if (!ctx.redis) {
        fprintf(stderr, "agg-dashboard: out of memory\n");
        return 1;
    }
    dash_http_t *http = dash_http_start(&ctx, err, sizeof err);
    if (!http) {
        agg_error("listen_failed", "error=\"%s\"", err);
        dash_redis_free(ctx.redis);
        return 1;
    }
    agg_info("listening", "url=http://%s/ redis=%s:%d key_prefix=%s token=%s", conf.listen,
             conf.redis.host, conf.redis.port, conf.key_prefix,
             conf.token && conf.token[0] ? "required" : "none");
    /* The server runs in its own thread; this one only waits for the signal (a short
     * sleep, not pause(), which a signal arriving just before it would leave hanging). */
    while (!stop)
        usleep(100 * 1000);
    agg_info("stopping", "signal=1");
    dash_http_stop(http);
    dash_redis_free(ctx.redis);
    return 0;
}
