/* The producer's librdkafka configuration, shared by agg-produce and agg-import
 * --publish so that both publish with the same guarantees. */
#include <stdio.h>
#include <string.h>

#include "agg/kafka.h"
#include "produce.h"

int prod_wait_ms(long timeout_ms, const agg_kprops_t *props) {
    long ms = timeout_ms;
    /* Waiting for a topic is part of delivering a message, so an operator who shortened
     * the delivery timeout with -X/-F means the whole wait. */
    for (size_t i = 0; i < props->count; i++) {
        if (strcmp(props->key[i], "message.timeout.ms") != 0 &&
            strcmp(props->key[i], "delivery.timeout.ms") != 0)
            continue;
        long v;
        char why[64];
        /* librdkafka has accepted the value already (prod_conf_new runs first). */
        if (agg_parse_int_range(props->value[i], strlen(props->value[i]), 1, ms, &v, why,
                                sizeof why) == 0)
            ms = v;
    }
    return (int)ms;
}

rd_kafka_conf_t *prod_conf_new(const char *bootstrap, long timeout_ms,
                               const agg_kprops_t *props, char *errstr, size_t errstr_size) {
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", timeout_ms);
    /* clang-format off */
    const char *const defaults[] = {
        "client.id", "agg-produce",
        /* Retries must not duplicate or reorder a region's rows (corrections follow
         * the rows they correct). Idempotence implies acks=all; said anyway. */
        "enable.idempotence", "true",
        "acks", "all",
        "linger.ms", "5",
        "compression.type", "none",
        /* The Java client's key hash: a district's own producer (most are Java or
         * use its partitioner) then puts a region on the same partition as ours. */
        "partitioner", "murmur2_random",
        /* Topics are created explicitly with the configured partition count; the
         * broker must not create one with its own default on a metadata request. */
        "allow.auto.create.topics", "false",
        /* A message not acknowledged within the wait fails with its own report. */
        "message.timeout.ms", timeout,
        NULL,
    };
    /* clang-format on */
    return agg_kafka_conf_new(bootstrap, defaults, props, errstr, errstr_size);
}
