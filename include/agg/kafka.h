/* librdkafka plumbing shared by agg-produce and agg-worker. */
#ifndef AGG_KAFKA_H
#define AGG_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "agg/config.h"

/* Builds a configuration: bootstrap servers, then the given defaults ("key", "value",
 * ..., NULL), then the -F/-X properties (which win). Returns NULL with the reason in
 * errstr ("-X foo=bar: No such configuration property"). The caller owns the result
 * until it passes it to rd_kafka_new(). */
rd_kafka_conf_t *agg_kafka_conf_new(const char *bootstrap, const char *const *defaults,
                                    const agg_kprops_t *props, char *errstr,
                                    size_t errstr_size);

/* Makes sure a topic exists: creates it with the Admin API when metadata does not list
 * it (an "already exists" race counts as success), then waits until metadata shows it.
 * replication_factor -1 = the broker's default. Returns its partition count, or -1 with
 * the reason in errstr. */
int agg_kafka_ensure_topic(rd_kafka_t *rk, const char *topic, int partitions,
                           int replication_factor, int timeout_ms, char *errstr,
                           size_t errstr_size);

/* Partition count of an existing topic, 0 when it does not exist, -1 on error. */
int agg_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                              char *errstr, size_t errstr_size);

/* A consumer for reading by assignment (no group membership, nothing committed, a
 * partition end reported as an event). The caller destroys it; NULL with errstr. */
rd_kafka_t *agg_kafka_reader_new(const char *bootstrap, const agg_kprops_t *props,
                                 char *errstr, size_t errstr_size);
/* The same with more default properties ("key", "value", ..., NULL; at most 12 pairs),
 * which -X/-F still override. */
rd_kafka_t *agg_kafka_reader_new_with(const char *bootstrap, const char *const *more,
                                      const agg_kprops_t *props, char *errstr,
                                      size_t errstr_size);

/* Called for each message read; a non-zero return stops the read (with errstr set). */
typedef int agg_kafka_read_cb_t(const rd_kafka_message_t *m, void *opaque, char *errstr,
                                size_t errstr_size);
/* Reads every partition of topic up to its end as it was when the read started: from
 * the beginning (tail < 0) or the last tail messages of each partition. Bounded by
 * timeout_ms in all. Returns the partition count (0: no such topic), or -1 with the
 * reason in errstr. Used to read summaries back (agg-summaries, the sender's check). */
int agg_kafka_read_topic(const char *bootstrap, const agg_kprops_t *props, const char *topic,
                         int64_t tail, int timeout_ms, agg_kafka_read_cb_t *cb, void *opaque,
                         char *errstr, size_t errstr_size);

/* Fetches the messages at the given offsets of one partition, calling cb for each while
 * it is alive (the message belongs to a consumer that is destroyed afterwards). Bounded
 * by timeout_ms in all. 0, or -1 with the reason in errstr. */
int agg_kafka_fetch_offsets(const char *bootstrap, const agg_kprops_t *props, const char *topic,
                            int32_t partition, const int64_t *offsets, size_t n,
                            int timeout_ms, agg_kafka_read_cb_t *cb, void *opaque,
                            char *errstr, size_t errstr_size);

#endif
