/* Command-line configuration driven by one table per program (config.h): defaults,
 * then AGG_* environment variables, then flags, so that a flag always wins over the
 * environment a container was started with. librdkafka properties pass through with
 * -X key=value and -F file, as in kcat. */
#include "agg/config.h"
#include "agg/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agg/keys.h"
#include "agg/period.h"
#include "agg/record.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_DB_MAX 15 /* the "databases 16" of a stock redis.conf */


/* ---- librdkafka properties ---- */

static int kprops_set(agg_kprops_t *props, const char *key, size_t klen, const char *value,
                      size_t vlen, char *errstr, size_t errstr_size) {
    if (klen == 0)
        return agg_fail(errstr, errstr_size, "empty property name");
    if (klen >= sizeof props->key[0])
        return agg_fail(errstr, errstr_size, "property name longer than %zu bytes",
                    sizeof props->key[0] - 1);
    if (vlen >= sizeof props->value[0])
        return agg_fail(errstr, errstr_size, "value of %.*s longer than %zu bytes", (int)klen,
                    key, sizeof props->value[0] - 1);
    size_t i;
    for (i = 0; i < props->count; i++)
        if (strlen(props->key[i]) == klen && memcmp(props->key[i], key, klen) == 0)
            break;
    /* A repeated key keeps its place and takes the later value: applied in order, the
     * result is the same as appending, without spending a slot. */
    if (i == props->count) {
        if (props->count >= AGG_KPROPS_MAX)
            return agg_fail(errstr, errstr_size, "more than %d properties", AGG_KPROPS_MAX);
        memcpy(props->key[i], key, klen);
        props->key[i][klen] = '\0';
        props->count++;
    }
    memcpy(props->value[i], value, vlen);
    props->value[i][vlen] = '\0';
    return 0;
}

/* The text is not echoed back: a mistyped property may well be a password. */
int agg_kprops_add(agg_kprops_t *props, const char *kv, char *errstr, size_t errstr_size) {
    const char *eq = strchr(kv, '=');
    if (!eq)
        return agg_fail(errstr, errstr_size, "expected key=value");
    return kprops_set(props, kv, (size_t)(eq - kv), eq + 1, strlen(eq + 1), errstr,
                      errstr_size);
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Trims [*s, *s + *len) in place. */
static void trim(const char **s, size_t *len) {
    while (*len > 0 && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1]))
        (*len)--;
}

/* The subset of Java properties that librdkafka configs use in practice: key=value,
 * blank lines, # and ! comments. No ':' separator and no line continuations. The file
 * and the in-memory entry points share this reader, so what the fuzzer exercises
 * through agg_kprops_load_text is exactly what -F runs. name only labels errors. */
static int kprops_load_stream(agg_kprops_t *props, FILE *in, const char *name,
                              char *errstr, size_t errstr_size) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    errno = 0;
    while ((n = getline(&line, &cap, in)) != -1) {
        lineno++;
        /* librdkafka takes C strings: a NUL would silently cut the key or value
         * there (found by fuzz_kprops). */
        if (memchr(line, '\0', (size_t)n)) {
            rc = agg_fail(errstr, errstr_size, "%s:%ld: NUL byte in the line", name, lineno);
            break;
        }
        const char *s = line;
        size_t len = (size_t)n;
        trim(&s, &len);
        if (len == 0 || s[0] == '#' || s[0] == '!')
            continue;
        const char *eq = memchr(s, '=', len);
        if (!eq) {
            rc = agg_fail(errstr, errstr_size, "%s:%ld: expected key=value", name, lineno);
            break;
        }
        const char *k = s, *v = eq + 1;
        size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
        trim(&k, &klen);
        trim(&v, &vlen);
        char why[160];
        if (kprops_set(props, k, klen, v, vlen, why, sizeof why)) {
            rc = agg_fail(errstr, errstr_size, "%s:%ld: %s", name, lineno, why);
            break;
        }
    }
    if (rc == 0 && ferror(in))
        rc = agg_fail(errstr, errstr_size, "%s: read error: %s", name, strerror(errno));
    free(line);
    return rc;
}

int agg_kprops_load_file(agg_kprops_t *props, const char *path, char *errstr,
                         size_t errstr_size) {
    FILE *in = fopen(path, "r");
    if (!in)
        return agg_fail(errstr, errstr_size, "%s: %s", path, strerror(errno));
    int rc = kprops_load_stream(props, in, path, errstr, errstr_size);
    if (fclose(in) != 0 && rc == 0)
        rc = agg_fail(errstr, errstr_size, "%s: %s", path, strerror(errno));
    return rc;
}

int agg_kprops_load_text(agg_kprops_t *props, const char *text, size_t len,
                         const char *name, char *errstr, size_t errstr_size) {
    if (len == 0)
        return 0; /* an empty file holds no property; fmemopen may refuse size 0 */
    /* fmemopen in "r" mode never writes to the buffer; the cast only satisfies its
     * prototype. */
    FILE *in = fmemopen((void *)text, len, "r");
    if (!in)
        return agg_fail(errstr, errstr_size, "%s: fmemopen: %s", name, strerror(errno));
    int rc = kprops_load_stream(props, in, name, errstr, errstr_size);
    fclose(in); /* a read-only memory stream has nothing to flush */
    return rc;
}

/* ---- options ---- */

static const agg_opt_t *find_long(const agg_opt_t *opts, const char *name, size_t len) {
    for (const agg_opt_t *o = opts; o->name; o++)
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const agg_opt_t *find_short(const agg_opt_t *opts, char c) {
    for (const agg_opt_t *o = opts; o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static int parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* origin names where the value came from in errors: "--batch-size", "AGG_BATCH_SIZE"
 * or "default of --batch-size". */
static int set_value(const agg_opt_t *o, const char *value, const char *origin,
                     char *errstr, size_t errstr_size) {
    switch (o->type) {
    case AGG_OPT_STRING:
        *(const char **)o->target = value;
        return 0;
    case AGG_OPT_INT: {
        char why[128];
        long v;
        if (agg_parse_int_range(value, strlen(value), o->min, o->max, &v, why, sizeof why))
            return agg_fail(errstr, errstr_size, "%s: %s", origin, why);
        *(long *)o->target = v;
        return 0;
    }
    case AGG_OPT_FLAG: {
        bool b;
        if (parse_bool(value, &b))
            return agg_fail(errstr, errstr_size, "%s: expected 1/true/yes/on or 0/false/no/off",
                        origin);
        *(bool *)o->target = b;
        return 0;
    }
    }
    return agg_fail(errstr, errstr_size, "%s: bad option type", origin);
}

/* Options without a default are reset too, so a target never keeps a stale value
 * from before the call: NULL, false or 0. */
static void clear_value(const agg_opt_t *o) {
    switch (o->type) {
    case AGG_OPT_STRING:
        *(const char **)o->target = NULL;
        break;
    case AGG_OPT_INT:
        *(long *)o->target = 0;
        break;
    case AGG_OPT_FLAG:
        *(bool *)o->target = false;
        break;
    }
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* -X and -F; value is the argument after the letter. */
static int special_option(char c, const char *value, agg_kprops_t *props, char *errstr,
                          size_t errstr_size) {
    if (!props)
        return agg_fail(errstr, errstr_size, "-%c: this command takes no Kafka properties", c);
    if (c == 'F')
        return agg_kprops_load_file(props, value, errstr, errstr_size);
    char why[160];
    if (agg_kprops_add(props, value, why, sizeof why))
        return agg_fail(errstr, errstr_size, "-X: %s", why);
    return 0;
}

static void usage(FILE *out, const char *synopsis, const agg_opt_t *opts, bool kafka);

int agg_opts_parse(const agg_opt_t *opts, int argc, char **argv, int *first_arg,
                   agg_kprops_t *props, char *errstr, size_t errstr_size) {
    char origin[160];
    for (const agg_opt_t *o = opts; o->name; o++) {
        if (!o->def) {
            clear_value(o);
            continue;
        }
        snprintf(origin, sizeof origin, "default of --%s", o->name);
        if (set_value(o, o->def, origin, errstr, errstr_size))
            return -1;
    }
    /* An empty variable counts as unset: compose files and env files produce empty
     * values for variables that were never given. */
    for (const agg_opt_t *o = opts; o->name; o++) {
        const char *v = o->env ? getenv(o->env) : NULL;
        if (v && v[0] && set_value(o, v, o->env, errstr, errstr_size))
            return -1;
    }

    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') /* "-" is an argument (stdin), as usual */
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            const agg_opt_t *o = find_long(opts, name, nlen);
            if (!o && !eq && strcmp(name, "help") == 0) {
                char syn[200];
                snprintf(syn, sizeof syn, "%s [options]", base_name(argv[0]));
                usage(stdout, syn, opts, props != NULL);
                return 1;
            }
            if (!o)
                return agg_fail(errstr, errstr_size, "unknown option --%.*s (see --help)",
                            (int)nlen, name);
            snprintf(origin, sizeof origin, "--%s", o->name);
            const char *value;
            if (o->type == AGG_OPT_FLAG) {
                if (eq)
                    return agg_fail(errstr, errstr_size, "--%s takes no value", o->name);
                value = "true";
            } else if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return agg_fail(errstr, errstr_size, "--%s needs a value", o->name);
            }
            if (set_value(o, value, origin, errstr, errstr_size))
                return -1;
            continue;
        }
        /* A cluster of short options, getopt style: "-qv", "-b500", "-b 500". */
        for (const char *p = a + 1; *p; p++) {
            char c = *p;
            const agg_opt_t *o = NULL;
            bool special = c == 'X' || c == 'F';
            if (!special) {
                o = find_short(opts, c);
                if (!o && c == 'h') {
                    char syn[200];
                    snprintf(syn, sizeof syn, "%s [options]", base_name(argv[0]));
                    usage(stdout, syn, opts, props != NULL);
                    return 1;
                }
                if (!o)
                    return agg_fail(errstr, errstr_size, "unknown option -%c (see --help)", c);
                if (o->type == AGG_OPT_FLAG) {
                    *(bool *)o->target = true;
                    continue;
                }
            }
            const char *value;
            if (p[1]) {
                value = p + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                if (special)
                    return agg_fail(errstr, errstr_size, "-%c needs a value", c);
                return agg_fail(errstr, errstr_size, "-%c (--%s) needs a value", c, o->name);
            }
            if (special) {
                if (special_option(c, value, props, errstr, errstr_size))
                    return -1;
            } else {
                snprintf(origin, sizeof origin, "--%s", o->name);
                if (set_value(o, value, origin, errstr, errstr_size))
                    return -1;
            }
            break; /* the value took the rest of the cluster */
        }
    }
    if (first_arg)
        *first_arg = i;
    return 0;
}

/* Left column of one usage line, e.g. "  -b, --batch-size <n>". */
static void usage_left(const agg_opt_t *o, char *buf, size_t bufsz) {
    const char *meta = o->type == AGG_OPT_INT      ? " <n>"
                       : o->type == AGG_OPT_STRING ? " <value>"
                                                   : "";
    if (o->short_name)
        snprintf(buf, bufsz, "  -%c, --%s%s", o->short_name, o->name, meta);
    else
        snprintf(buf, bufsz, "      --%s%s", o->name, meta);
}

/* kafka: the program takes -X/-F (a program without Kafka, agg-dashboard, refuses
 * them, so its help does not list them). */
static void usage(FILE *out, const char *synopsis, const agg_opt_t *opts, bool kafka) {
    typedef struct {
        const char *left, *help;
    } fixed_t;
    static const fixed_t all_fixed[] = {
        {"  -X <key=value>", "librdkafka property, repeatable; later ones win"},
        {"  -F <file>", "librdkafka properties file (key=value lines, # comments)"},
        {"  -h, --help", "show this help"},
    };
    const size_t skip = kafka ? 0 : 2;
    const fixed_t *fixed = all_fixed + skip;
    const size_t nfixed = sizeof all_fixed / sizeof *all_fixed - skip;
    char left[160];
    size_t width = 0;
    for (const agg_opt_t *o = opts; o->name; o++) {
        usage_left(o, left, sizeof left);
        if (strlen(left) > width)
            width = strlen(left);
    }
    for (size_t k = 0; k < nfixed; k++)
        if (strlen(fixed[k].left) > width)
            width = strlen(fixed[k].left);
    width += 2;

    /* Nothing useful can be done about a failed write of the help text, so write
     * errors are left to the stream's error flag. */
    fprintf(out, "usage: %s\n\noptions:\n", synopsis);
    for (const agg_opt_t *o = opts; o->name; o++) {
        usage_left(o, left, sizeof left);
        fprintf(out, "%-*s%s", (int)width, left, o->help ? o->help : "");
        const char *sep = " [";
        if (o->type == AGG_OPT_INT) {
            fprintf(out, "%s%ld..%ld", sep, o->min, o->max);
            sep = ", ";
        }
        if (o->def) {
            fprintf(out, "%sdefault %s", sep, o->def);
            sep = ", ";
        }
        if (o->env) {
            fprintf(out, "%senv %s", sep, o->env);
            sep = ", ";
        }
        fprintf(out, "%s\n", sep[0] == ',' ? "]" : "");
    }
    for (size_t k = 0; k < nfixed; k++)
        fprintf(out, "%-*s%s\n", (int)width, fixed[k].left, fixed[k].help);
    fflush(out);
}

void agg_opts_usage(FILE *out, const char *synopsis, const agg_opt_t *opts) {
    usage(out, synopsis, opts, true);
}

/* ---- Redis URL ---- */

static int hex_val(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+len) into dst (NUL-terminated): passwords with '@', ':' or '/'
 * must be written %40, %3A, %2F in a URL. */
static int url_decode(const char *s, size_t len, char *dst, size_t dstsz) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_val(s[i + 1]), lo = hex_val(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= dstsz)
            return -2;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return 0;
}

/* Credentials are never quoted back in a message: errors name the part that is wrong. */
int agg_redis_url_parse(const char *url, agg_redis_url_t *out, char *errstr,
                        size_t errstr_size) {
    static const char form[] = "expected redis://[user:password@]host[:port][/db]";
    memset(out, 0, sizeof *out);
    out->port = REDIS_DEFAULT_PORT;

    const char *sep = strstr(url, "://");
    if (!sep)
        return agg_fail(errstr, errstr_size, "%s", form);
    size_t slen = (size_t)(sep - url);
    if (slen != 5 || strncasecmp(url, "redis", 5) != 0) {
        if (slen == 6 && strncasecmp(url, "rediss", 6) == 0)
            return agg_fail(errstr, errstr_size, "TLS (rediss://) is not supported; %s", form);
        return agg_fail(errstr, errstr_size, "unsupported scheme \"%.*s\"; %s",
                    slen > 16 ? 16 : (int)slen, url, form);
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *rest = auth + alen;

    /* The last '@' ends the credentials, so an unencoded '@' in a password still works. */
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    const char *host = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (!colon)
            return agg_fail(errstr, errstr_size,
                        "credentials must be user:password@ or :password@; %s", form);
        int rc = url_decode(auth, (size_t)(colon - auth), out->user, sizeof out->user);
        if (rc == 0)
            rc = url_decode(colon + 1, (size_t)(at - colon - 1), out->password,
                            sizeof out->password);
        if (rc == -1)
            return agg_fail(errstr, errstr_size, "bad percent-encoding in the credentials");
        if (rc == -2)
            return agg_fail(errstr, errstr_size, "user or password too long");
        host = at + 1;
    }
    size_t hlen = (size_t)(auth + alen - host);
    const char *port = NULL;
    size_t plen = 0;
    const char *hstart = host;
    size_t hostlen;
    if (hlen > 0 && host[0] == '[') { /* IPv6 literal: [::1]:6379 */
        const char *close = memchr(host, ']', hlen);
        if (!close)
            return agg_fail(errstr, errstr_size, "unterminated [ in the host; %s", form);
        hstart = host + 1;
        hostlen = (size_t)(close - hstart);
        const char *after = close + 1;
        size_t left = (size_t)(host + hlen - after);
        if (left > 0) {
            if (after[0] != ':')
                return agg_fail(errstr, errstr_size, "unexpected text after ]; %s", form);
            port = after + 1;
            plen = left - 1;
        }
    } else {
        const char *colon = memchr(host, ':', hlen);
        hostlen = colon ? (size_t)(colon - host) : hlen;
        if (colon) {
            port = colon + 1;
            plen = hlen - hostlen - 1;
        }
    }
    if (hostlen == 0)
        return agg_fail(errstr, errstr_size, "missing host; %s", form);
    if (hostlen >= sizeof out->host)
        return agg_fail(errstr, errstr_size, "host name longer than %zu bytes",
                    sizeof out->host - 1);
    memcpy(out->host, hstart, hostlen);
    out->host[hostlen] = '\0';

    if (port) {
        long p;
        char why[96];
        if (plen == 0 || port[0] == '-' ||
            agg_parse_int_range(port, plen, 1, 65535, &p, why, sizeof why))
            return agg_fail(errstr, errstr_size, "port must be a number between 1 and 65535");
        out->port = (int)p;
    }

    if (rest[0] == '?' || rest[0] == '#')
        return agg_fail(errstr, errstr_size, "query parameters are not supported; %s", form);
    if (rest[0] == '/' && rest[1] != '\0') {
        const char *db = rest + 1;
        size_t dlen = strlen(db);
        long d;
        char why[96];
        if (db[0] == '-' ||
            agg_parse_int_range(db, dlen, 0, REDIS_DB_MAX, &d, why, sizeof why))
            return agg_fail(errstr, errstr_size, "database must be a number between 0 and %d",
                        REDIS_DB_MAX);
        out->db = (int)d;
    }
    return 0;
}

int agg_check_topic_prefix(const char *prefix, char *errstr, size_t errstr_size) {
    size_t len = strlen(prefix);
    const size_t longest_suffix = sizeof "summaries" - 1; /* > AGG_QUARTER_ID_LEN, "dlq" */
    if (len + longest_suffix > AGG_TOPIC_NAME_MAX)
        return agg_fail(errstr, errstr_size, "topic prefix longer than %zu bytes",
                        AGG_TOPIC_NAME_MAX - longest_suffix);
    for (size_t i = 0; i < len; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return agg_fail(errstr, errstr_size,
                            "topic prefix \"%s\": topic names allow only [a-zA-Z0-9._-]",
                            prefix);
    }
    return 0;
}

int agg_check_key_prefix(const char *key_prefix, const char *topic_prefix, char *errstr,
                         size_t errstr_size) {
    size_t len = strlen(key_prefix);
    if (len == 0 || len > AGG_KEY_PREFIX_MAX)
        return agg_fail(errstr, errstr_size, "key prefix must have 1 to %d bytes",
                        AGG_KEY_PREFIX_MAX);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)key_prefix[i] <= ' ' || key_prefix[i] == 0x7f)
            return agg_fail(errstr, errstr_size,
                            "key prefix: byte %zu is a space or a control byte", i + 1);
        /* Every key is "<prefix>:...": without ':' in the prefix, two deployments'
         * key spaces cannot overlap ("agg:internal" would write into agg's own state). */
        if (key_prefix[i] == ':')
            return agg_fail(errstr, errstr_size,
                            "key prefix \"%s\": ':' is not allowed (keys are <prefix>:..., "
                            "so it could reach another deployment's keys)",
                            key_prefix);
    }
    const size_t offsets_key = len + sizeof ":internal:offsets:" - 1 + strlen(topic_prefix) +
                               AGG_QUARTER_ID_LEN;
    if (offsets_key >= AGG_KEY_MAX)
        return agg_fail(errstr, errstr_size,
                        "key prefix and topic prefix together too long: the offsets key "
                        "would need %zu bytes (max %d)",
                        offsets_key, AGG_KEY_MAX - 1);
    return 0;
}

bool agg_kprop_is_secret(const char *key) {
    /* sasl.* holds usernames and mechanisms too: hiding them costs nothing. */
    if (strncmp(key, "sasl.", 5) == 0)
        return true;
    static const char *const parts[] = {"password", "secret", ".key", "token", NULL};
    for (const char *const *p = parts; *p; p++)
        if (strcasestr(key, *p))
            return true;
    return false;
}
