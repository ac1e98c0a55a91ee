/* agg-produce internals: report rows read from CSV (rows.c), their publication and
 * the quarter-close markers (publish.c), the --dry-run listing (dry_run.c). */
#ifndef AGG_PRODUCE_H
#define AGG_PRODUCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "agg/codec.h"
#include "agg/config.h"
#include "agg/record.h"
#include "agg/regions.h"

/* Exit codes (documented in --help and the README). */
enum {
    PROD_EXIT_OK = 0,
    PROD_EXIT_INVALID =
        1, /* invalid input: nothing, or with --skip-invalid not all, sent */
    PROD_EXIT_USAGE = 2,
    PROD_EXIT_DELIVERY = 3, /* some message was not acknowledged by the broker */
};

typedef enum {
    PROD_MSG_PENDING = 0, /* not handed to librdkafka (yet) */
    PROD_MSG_QUEUED,      /* produced, no delivery report yet */
    PROD_MSG_DELIVERED,   /* acknowledged by the broker */
    PROD_MSG_FAILED,      /* definitely or possibly not written; already reported */
} prod_msg_state_t;

/* One message to send, and the delivery report's verdict on it. It is the per-message
 * opaque of librdkafka, so it must not move while a message is in flight. */
typedef struct {
    const char *file;  /* source of a row ("-" reads stdin); NULL for a close marker */
    long line;         /* line of the row in file */
    size_t topic;      /* index in prod_rows_t.topic */
    int32_t partition; /* close marker: explicit target; rows: where it landed */
    prod_msg_state_t state;
} prod_msg_t;

typedef struct {
    prod_msg_t msg;
    agg_record_t rec; /* title / report_id point into text */
    char *text;       /* owned: title then report_id, each NUL-terminated, or NULL */
} prod_row_t;

typedef struct {
    char name[256];
    size_t rows;
} prod_topic_t;

/* Every valid row of one run, in input order (files in argument order). */
typedef struct {
    prod_row_t *row;
    size_t count, cap;
    prod_topic_t *topic;
    size_t ntopics, topics_cap;
    /* Open-addressing set of (region, year, quarter, indicator, revision) over row:
     * slot holds row index + 1, 0 = empty. Kept at most half full. */
    size_t *slot;
    size_t nslots;
    size_t invalid_rows; /* rows rejected (each reported on stderr) */
    size_t file_errors;  /* files that could not be read or had a bad header */
} prod_rows_t;

typedef struct {
    const char *topic_prefix;
    const agg_regions_t *regions; /* NULL: --no-region-check */
    int64_t default_submitted_ms; /* for rows without submitted_at */
} prod_read_opts_t;

/* Reads one CSV file ("-" = stdin) and appends its valid rows. Every problem is
 * written to stderr as "FILE:LINE: ..." and counted in invalid_rows / file_errors.
 * Returns 0, or -1 on out of memory (fatal). */
int prod_rows_read(prod_rows_t *rows, const char *path, const prod_read_opts_t *o);
/* The same from an open stream (not closed here); file names the rows in messages.
 * agg-import hands its output to the producer this way. */
int prod_rows_read_stream(prod_rows_t *rows, FILE *in, const char *file,
                          const prod_read_opts_t *o);
void prod_rows_free(prod_rows_t *rows);

/* The producer's client configuration (conf.c): its defaults (idempotence, acks=all,
 * the Java partitioner, no auto-created topics, message.timeout.ms = timeout_ms), then
 * props (-F/-X, later wins). NULL with the reason in errstr. The caller owns the result
 * (prod_publish_rows consumes it). */
rd_kafka_conf_t *prod_conf_new(const char *bootstrap, long timeout_ms,
                               const agg_kprops_t *props, char *errstr, size_t errstr_size);
/* How long to wait on the broker: timeout_ms, or a smaller message.timeout.ms or
 * delivery.timeout.ms given in props. */
int prod_wait_ms(long timeout_ms, const agg_kprops_t *props);

/* "FILE:LINE" of a row, or "TOPIC [P]" of a close marker, for messages. */
void prod_msg_where(const prod_msg_t *m, const prod_topic_t *topics, char *buf,
                    size_t bufsz);

typedef struct {
    int partitions;         /* of topics the producer creates */
    int replication_factor; /* -1 = broker default */
    int timeout_ms;         /* bound of each wait on the broker */
} prod_kafka_opts_t;

/* Publishes every row; conf is consumed (ownership passes, also on failure). Each row
 * that was not acknowledged is named on stderr. Returns PROD_EXIT_OK,
 * PROD_EXIT_DELIVERY, or PROD_EXIT_USAGE when the client could not be created from
 * conf. The summary line is printed unless quiet. */
int prod_publish_rows(prod_rows_t *rows, rd_kafka_conf_t *conf, const prod_kafka_opts_t *o,
                      bool quiet);

/* Writes the close marker to every partition of topic, with the partition count set to
 * the topic's; conf is consumed. Returns
 * PROD_EXIT_OK, PROD_EXIT_DELIVERY, PROD_EXIT_INVALID (the topic does not exist) or
 * PROD_EXIT_USAGE. */
int prod_publish_close(const char *topic, const agg_close_t *marker, rd_kafka_conf_t *conf,
                       const prod_kafka_opts_t *o, bool quiet);

/* --dry-run: one JSON object per row on stdout. Returns 0, or -1 on a write error. */
int prod_dry_run_print(const prod_rows_t *rows);

#endif
