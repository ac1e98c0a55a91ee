/* Option table parsing (defaults < environment < flags), -X/-F pass-through, --help,
 * and AGG_REDIS_URL. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg/config.h"
#include "test.h"
#include "agg/kafka.h"

static char err[512];

static const char *brokers, *group;
static long batch, partitions;
static bool verify, quiet;

static const agg_opt_t opts[] = {
    {"bootstrap", 'b', "AGG_TEST_BOOTSTRAP", AGG_OPT_STRING, "localhost:9092", 0, 0,
     "Kafka bootstrap servers", &brokers},
    {"group", 'G', "AGG_TEST_GROUP", AGG_OPT_STRING, NULL, 0, 0, "consumer group", &group},
    {"batch-size", 0, "AGG_TEST_BATCH_SIZE", AGG_OPT_INT, "500", 1, 100000,
     "records per batch", &batch},
    {"partitions", 'p', NULL, AGG_OPT_INT, "6", 1, 1000, "partitions of a new topic",
     &partitions},
    {"verify", 0, "AGG_TEST_VERIFY", AGG_OPT_FLAG, NULL, 0, 0, "compare only", &verify},
    {"quiet", 'q', NULL, AGG_OPT_FLAG, NULL, 0, 0, "less output", &quiet},
    {0},
};

static agg_kprops_t props;

/* argv from a NULL-terminated list of literals; the parser keeps pointers into it. */
static char *argv_store[32];

static int parse(int *first, const char *const *args) {
    int argc = 0;
    argv_store[argc++] = (char *)"agg-test";
    for (; args[argc - 1] && argc < 31; argc++)
        argv_store[argc] = (char *)args[argc - 1];
    argv_store[argc] = NULL;
    err[0] = '\0';
    int dummy;
    return agg_opts_parse(opts, argc, argv_store, first ? first : &dummy, &props, err,
                          sizeof err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS ((const char *const[]){NULL})

static void clear_env(void) {
    unsetenv("AGG_TEST_BOOTSTRAP");
    unsetenv("AGG_TEST_GROUP");
    unsetenv("AGG_TEST_BATCH_SIZE");
    unsetenv("AGG_TEST_VERIFY");
    memset(&props, 0, sizeof props);
}

static void defaults(void) {
    clear_env();
    group = "stale";
    verify = true;
    int first = -1;
    CHECK(parse(&first, NOARGS) == 0);
    CHECK_I64(first, 1);
    CHECK_STR(brokers, "localhost:9092");
    CHECK(group == NULL);
    CHECK_I64(batch, 500);
    CHECK_I64(partitions, 6);
    CHECK(!verify);
    CHECK(!quiet);
}

static void long_and_short_flags(void) {
    clear_env();
    int first = -1;
    CHECK(parse(&first, ARGS("--bootstrap", "k1:9092", "--batch-size=2000", "-p", "12",
                             "--verify", "-qG", "g1", "file.csv", "--quiet")) == 0);
    CHECK_I64(first, 9);
    CHECK_STR(argv_store[first], "file.csv");
    CHECK_STR(brokers, "k1:9092");
    CHECK_I64(batch, 2000);
    CHECK_I64(partitions, 12);
    CHECK(verify);
    CHECK(quiet);
    CHECK_STR(group, "g1");

    CHECK(parse(&first, ARGS("-bk2:9092", "-p7", "--", "--not-an-option")) == 0);
    CHECK_STR(brokers, "k2:9092");
    CHECK_I64(partitions, 7);
    CHECK_I64(first, 4);
    CHECK(!quiet); /* flags start from their defaults on every parse */

    CHECK(parse(&first, ARGS("-", "x")) == 0);
    CHECK_I64(first, 1); /* "-" is an argument (stdin) */
    CHECK(parse(&first, ARGS("--bootstrap=")) == 0);
    CHECK_STR(brokers, "");
}

static void environment_then_flags(void) {
    clear_env();
    setenv("AGG_TEST_BOOTSTRAP", "env:9092", 1);
    setenv("AGG_TEST_BATCH_SIZE", "42", 1);
    setenv("AGG_TEST_VERIFY", "true", 1);
    setenv("AGG_TEST_GROUP", "", 1); /* empty = unset */
    CHECK(parse(NULL, NOARGS) == 0);
    CHECK_STR(brokers, "env:9092");
    CHECK_I64(batch, 42);
    CHECK(verify);
    CHECK(group == NULL);

    CHECK(parse(NULL, ARGS("--bootstrap", "flag:9092", "--batch-size", "7")) == 0);
    CHECK_STR(brokers, "flag:9092");
    CHECK_I64(batch, 7);

    setenv("AGG_TEST_VERIFY", "0", 1);
    CHECK(parse(NULL, NOARGS) == 0);
    CHECK(!verify);
    setenv("AGG_TEST_VERIFY", "maybe", 1);
    CHECK(parse(NULL, NOARGS) == -1);
    CHECK_STR(err, "AGG_TEST_VERIFY: expected 1/true/yes/on or 0/false/no/off");
    setenv("AGG_TEST_VERIFY", "0", 1);

    setenv("AGG_TEST_BATCH_SIZE", "0", 1);
    CHECK(parse(NULL, NOARGS) == -1);
    CHECK_STR(err, "AGG_TEST_BATCH_SIZE: must be between 1 and 100000");
    /* a bad environment value is an error even when a flag would override it */
    CHECK(parse(NULL, ARGS("--batch-size", "5")) == -1);
    clear_env();
}

static void flag_errors(void) {
    clear_env();
    CHECK(parse(NULL, ARGS("--foo")) == -1);
    CHECK_STR(err, "unknown option --foo (see --help)");
    CHECK(parse(NULL, ARGS("--foo=1")) == -1);
    CHECK_STR(err, "unknown option --foo (see --help)");
    CHECK(parse(NULL, ARGS("-z")) == -1);
    CHECK_STR(err, "unknown option -z (see --help)");
    CHECK(parse(NULL, ARGS("--batch-size", "0")) == -1);
    CHECK_STR(err, "--batch-size: must be between 1 and 100000");
    CHECK(parse(NULL, ARGS("--batch-size=100001")) == -1);
    CHECK_STR(err, "--batch-size: must be between 1 and 100000");
    CHECK(parse(NULL, ARGS("--batch-size", "12x")) == -1);
    CHECK_STR(err, "--batch-size: not an integer: \"12x\"");
    CHECK(parse(NULL, ARGS("-p", "0")) == -1);
    CHECK_STR(err, "--partitions: must be between 1 and 1000");
    CHECK(parse(NULL, ARGS("--batch-size")) == -1);
    CHECK_STR(err, "--batch-size needs a value");
    CHECK(parse(NULL, ARGS("-p")) == -1);
    CHECK_STR(err, "-p (--partitions) needs a value");
    CHECK(parse(NULL, ARGS("--verify=1")) == -1);
    CHECK_STR(err, "--verify takes no value");
}

static void kafka_properties(void) {
    clear_env();
    CHECK(parse(NULL, ARGS("-X", "acks=all", "-Xlinger.ms=5", "-X", "acks=1", "-X",
                           "sasl.password=a=b")) == 0);
    CHECK_I64(props.count, 3);
    CHECK_STR(props.key[0], "acks");
    CHECK_STR(props.value[0], "1"); /* later wins, in place */
    CHECK_STR(props.key[1], "linger.ms");
    CHECK_STR(props.value[1], "5");
    CHECK_STR(props.key[2], "sasl.password");
    CHECK_STR(props.value[2], "a=b");
    CHECK(parse(NULL, ARGS("-X", "secret")) == -1);
    CHECK_STR(err, "-X: expected key=value");
    CHECK(parse(NULL, ARGS("-X", "=v")) == -1);
    CHECK_STR(err, "-X: empty property name");
    CHECK(parse(NULL, ARGS("-X")) == -1);
    CHECK_STR(err, "-X needs a value");

    char longkey[200];
    memset(longkey, 'k', 150);
    strcpy(longkey + 150, "=v");
    CHECK(agg_kprops_add(&props, longkey, err, sizeof err) == -1);
    CHECK_STR(err, "property name longer than 127 bytes");

    memset(&props, 0, sizeof props);
    char kv[32];
    for (int i = 0; i < AGG_KPROPS_MAX; i++) {
        snprintf(kv, sizeof kv, "k%d=v", i);
        CHECK(agg_kprops_add(&props, kv, err, sizeof err) == 0);
    }
    CHECK(agg_kprops_add(&props, "one.more=v", err, sizeof err) == -1);
    CHECK_STR(err, "more than 128 properties");
    CHECK(agg_kprops_add(&props, "k5=again", err, sizeof err) == 0); /* existing key */

    /* a table that takes no properties */
    int first;
    char *argv[] = {(char *)"x", (char *)"-X", (char *)"a=b", NULL};
    CHECK(agg_opts_parse(opts, 3, argv, &first, NULL, err, sizeof err) == -1);
    CHECK_STR(err, "-X: this command takes no Kafka properties");
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void properties_file(void) {
    clear_env();
    char path[] = "/tmp/agg-test-props-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    write_file(path, "# librdkafka\n"
                     "! also a comment\n"
                     "\n"
                     "  security.protocol = SASL_SSL  \r\n"
                     "sasl.mechanisms=PLAIN\n"
                     "sasl.password = p@ss=word\n"
                     "empty.value=\n");
    CHECK(parse(NULL, ARGS("-F", path, "-X", "sasl.mechanisms=SCRAM-SHA-256")) == 0);
    CHECK_I64(props.count, 4);
    CHECK_STR(props.key[0], "security.protocol");
    CHECK_STR(props.value[0], "SASL_SSL");
    CHECK_STR(props.value[1], "SCRAM-SHA-256"); /* -X after -F wins */
    CHECK_STR(props.key[2], "sasl.password");
    CHECK_STR(props.value[2], "p@ss=word");
    CHECK_STR(props.key[3], "empty.value");
    CHECK_STR(props.value[3], "");

    write_file(path, "a=1\n\nno separator here\n");
    CHECK(agg_kprops_load_file(&props, path, err, sizeof err) == -1);
    char want[128];
    snprintf(want, sizeof want, "%s:3: expected key=value", path);
    CHECK_STR(err, want);
    CHECK(parse(NULL, ARGS("-F", path)) == -1);
    CHECK_STR(err, want);

    write_file(path, "a=1\n = 2\n");
    CHECK(agg_kprops_load_file(&props, path, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s:2: empty property name", path);
    CHECK_STR(err, want);

    CHECK(unlink(path) == 0);
    CHECK(agg_kprops_load_file(&props, path, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_STR(err, want);
}

static void usage_lists_every_option(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK(out != NULL);
    if (!out)
        return;
    agg_opts_usage(out, "agg-test [options] FILE...", opts);
    CHECK(fclose(out) == 0);
    CHECK(strstr(text, "usage: agg-test [options] FILE...\n") == text);
    CHECK(strstr(text, "  -b, --bootstrap <value>  Kafka bootstrap servers [default "
                       "localhost:9092, env AGG_TEST_BOOTSTRAP]\n") != NULL);
    CHECK(strstr(text, "      --batch-size <n>     records per batch [1..100000, default "
                       "500, env AGG_TEST_BATCH_SIZE]\n") != NULL);
    CHECK(strstr(text, "  -q, --quiet              less output\n") != NULL);
    CHECK(strstr(text, "      --verify             compare only [env AGG_TEST_VERIFY]\n") !=
          NULL);
    CHECK(strstr(text, "  -X <key=value>") != NULL);
    CHECK(strstr(text, "  -F <file>") != NULL);
    CHECK(strstr(text, "  -h, --help") != NULL);
    if (!strstr(text, "  -q, --quiet              less output\n"))
        fputs(text, stderr);
    free(text);
}

static void help_returns_one(void) {
    clear_env();
    /* the usage goes to stdout; keep the test's own output readable */
    fflush(stdout);
    int saved = dup(1);
    FILE *devnull = fopen("/dev/null", "w");
    CHECK(saved >= 0 && devnull != NULL);
    if (saved < 0 || !devnull)
        return;
    CHECK(dup2(fileno(devnull), 1) >= 0);
    int a = parse(NULL, ARGS("--help"));
    int b = parse(NULL, ARGS("-q", "-h", "--foo"));
    fflush(stdout);
    CHECK(dup2(saved, 1) >= 0);
    close(saved);
    fclose(devnull);
    CHECK_I64(a, 1);
    CHECK_I64(b, 1);
}

static int url(const char *s, agg_redis_url_t *u) {
    err[0] = '\0';
    return agg_redis_url_parse(s, u, err, sizeof err);
}

static void redis_urls(void) {
    agg_redis_url_t u;
    CHECK(url("redis://localhost:6379", &u) == 0);
    CHECK_STR(u.host, "localhost");
    CHECK_I64(u.port, 6379);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "");
    CHECK_I64(u.db, 0);

    CHECK(url("redis://10.0.0.5", &u) == 0);
    CHECK_STR(u.host, "10.0.0.5");
    CHECK_I64(u.port, 6379);

    CHECK(url("redis://agg:s3cret@redis.internal:6380/3", &u) == 0);
    CHECK_STR(u.user, "agg");
    CHECK_STR(u.password, "s3cret");
    CHECK_STR(u.host, "redis.internal");
    CHECK_I64(u.port, 6380);
    CHECK_I64(u.db, 3);

    CHECK(url("redis://:only-pass@127.0.0.1:7000/", &u) == 0);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "only-pass");
    CHECK_I64(u.port, 7000);
    CHECK_I64(u.db, 0);

    CHECK(url("redis://u:p%40ss%3Aw%2Frd@h:1/15", &u) == 0);
    CHECK_STR(u.password, "p@ss:w/rd");
    CHECK_I64(u.db, 15);
    CHECK(url("redis://u:p@ss@h", &u) == 0); /* the last '@' ends the credentials */
    CHECK_STR(u.password, "p@ss");
    CHECK_STR(u.host, "h");

    CHECK(url("redis://[::1]:6390/2", &u) == 0);
    CHECK_STR(u.host, "::1");
    CHECK_I64(u.port, 6390);
    CHECK_I64(u.db, 2);
    CHECK(url("REDIS://h", &u) == 0);
}

static void redis_url_errors(void) {
    agg_redis_url_t u;
    CHECK(url("http://h:6379", &u) == -1);
    CHECK_STR(
        err,
        "unsupported scheme \"http\"; expected redis://[user:password@]host[:port][/db]");
    CHECK(url("rediss://h:6379", &u) == -1);
    CHECK(strstr(err, "TLS") != NULL);
    CHECK(url("localhost:6379", &u) == -1);
    CHECK(url("redis://", &u) == -1);
    CHECK(strstr(err, "missing host") == err);
    CHECK(url("redis://:6379", &u) == -1);
    CHECK(url("redis://h:0", &u) == -1);
    CHECK_STR(err, "port must be a number between 1 and 65535");
    CHECK(url("redis://h:65536", &u) == -1);
    CHECK(url("redis://h:", &u) == -1);
    CHECK(url("redis://h:63x", &u) == -1);
    CHECK(url("redis://h:-1", &u) == -1);
    CHECK(url("redis://h/16", &u) == -1);
    CHECK_STR(err, "database must be a number between 0 and 15");
    CHECK(url("redis://h/x", &u) == -1);
    CHECK(url("redis://h/1/2", &u) == -1);
    CHECK(url("redis://h?db=1", &u) == -1);
    CHECK(url("redis://secretword@h", &u) == -1);
    CHECK(strstr(err, "secretword") == NULL); /* credentials are never echoed */
    CHECK(url("redis://u:bad%zz@h", &u) == -1);
    CHECK_STR(err, "bad percent-encoding in the credentials");
    CHECK(url("redis://[::1", &u) == -1);
    CHECK(url("redis://[::1]x", &u) == -1);
}

/* A secret-looking property's value never appears in an error (hardening). */
static void secrets_are_not_printed(void) {
    agg_kprops_t secret_props = {0};
    char e[512];
    CHECK(agg_kprops_add(&secret_props, "no.such.secret=hunter2", e, sizeof e) == 0);
    rd_kafka_conf_t *c = agg_kafka_conf_new("127.0.0.1:1", NULL, &secret_props, e, sizeof e);
    CHECK(c == NULL);
    CHECK(strstr(e, "hunter2") == NULL);
    CHECK(strstr(e, "-X no.such.secret=(hidden): ") == e);
    agg_kprops_t open_props = {0};
    CHECK(agg_kprops_add(&open_props, "no.such.thing=visible", e, sizeof e) == 0);
    c = agg_kafka_conf_new("127.0.0.1:1", NULL, &open_props, e, sizeof e);
    CHECK(c == NULL && strstr(e, "=visible: ") != NULL);
    CHECK(agg_kprop_is_secret("sasl.username"));
    CHECK(agg_kprop_is_secret("ssl.key.password"));
    CHECK(agg_kprop_is_secret("ssl.key.pem"));
    CHECK(!agg_kprop_is_secret("linger.ms"));
}

TEST_MAIN(TEST(defaults), TEST(long_and_short_flags), TEST(environment_then_flags),
          TEST(flag_errors), TEST(kafka_properties), TEST(properties_file),
          TEST(usage_lists_every_option), TEST(help_returns_one), TEST(redis_urls),
          TEST(redis_url_errors), TEST(secrets_are_not_printed))
