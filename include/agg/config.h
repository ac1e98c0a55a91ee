/* Command-line configuration: one declarative table per program drives parsing of
 * flags and AGG_* environment variables, --help, and the README's option list.
 * librdkafka properties pass through with -X key=value and -F file, as in kcat. */
#ifndef AGG_CONFIG_H
#define AGG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    AGG_OPT_STRING, /* target: const char ** (points into argv/environ, not copied) */
    AGG_OPT_INT,    /* target: long *, checked against [min, max] */
    AGG_OPT_FLAG,   /* target: bool *, takes no value; env var "1"/"true" sets it */
} agg_opt_type_t;

typedef struct {
    const char *name;  /* long flag without "--" */
    char short_name;   /* 0 when none */
    const char *env;   /* environment variable, or NULL */
    agg_opt_type_t type;
    const char *def;   /* default as text, applied before env and flags; NULL = unset */
    long min, max;     /* AGG_OPT_INT bounds */
    const char *help;  /* one line */
    void *target;
} agg_opt_t;

#define AGG_KPROPS_MAX 128

/* librdkafka properties collected from -F files and -X flags, in order (later wins). */
typedef struct {
    size_t count;
    char key[AGG_KPROPS_MAX][128];
    char value[AGG_KPROPS_MAX][512];
} agg_kprops_t;

/* Applies defaults, then environment, then argv flags of opts (a table ending with a
 * zeroed entry). -X key=value and -F file go to props. Stops at the first non-option
 * argument or "--"; *first_arg is its index. Returns 0, 1 when --help was asked
 * (usage already printed to stdout), or -1 with the reason in errstr. */
int agg_opts_parse(const agg_opt_t *opts, int argc, char **argv, int *first_arg,
                   agg_kprops_t *props, char *errstr, size_t errstr_size);
void agg_opts_usage(FILE *out, const char *synopsis, const agg_opt_t *opts);

/* Reads a Java-style properties file (key=value, # comments). Errors are
 * "path:line: reason". */
int agg_kprops_load_file(agg_kprops_t *props, const char *path, char *errstr,
                         size_t errstr_size);
/* The same from len bytes of text in memory (NUL bytes are data, not an end); name
 * stands for the path in errors. */
int agg_kprops_load_text(agg_kprops_t *props, const char *text, size_t len,
                         const char *name, char *errstr, size_t errstr_size);
int agg_kprops_add(agg_kprops_t *props, const char *kv, char *errstr, size_t errstr_size);
/* A property whose value must never be printed (*password*, *secret*, *.key*, *token*,
 * sasl.*): errors show "(hidden)" instead. */
bool agg_kprop_is_secret(const char *key);

/* Parsed AGG_REDIS_URL: redis://[user:pass@]host:port[/db] */
typedef struct {
    char host[256];
    int port;
    char user[128];
    char password[256];
    int db;
} agg_redis_url_t;

int agg_redis_url_parse(const char *url, agg_redis_url_t *out, char *errstr,
                        size_t errstr_size);

/* Names built from the deployment prefixes (SPEC 10), checked once at startup so a bad
 * prefix is a usage error, never a truncated key or topic name later. Kafka topic names
 * allow [a-zA-Z0-9._-] and at most AGG_TOPIC_NAME_MAX bytes; the longest topic built
 * from the prefix is "<prefix>summaries". The key prefix starts every Redis key: at most
 * AGG_KEY_PREFIX_MAX bytes, no spaces or control bytes, and short enough together with
 * the topic prefix for "<key prefix>:internal:offsets:<topic>" to fit AGG_KEY_MAX. */
#define AGG_TOPIC_NAME_MAX 249
#define AGG_KEY_PREFIX_MAX 64
int agg_check_topic_prefix(const char *prefix, char *errstr, size_t errstr_size);
int agg_check_key_prefix(const char *key_prefix, const char *topic_prefix, char *errstr,
                         size_t errstr_size);

#endif
