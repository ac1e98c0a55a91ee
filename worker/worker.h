/* agg-worker internals: configuration, the batch builder, the Redis store, the DLQ. */
#ifndef AGG_WORKER_H
#define AGG_WORKER_H

#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agg/codec.h"
#include "agg/config.h"
#include "agg/deadline.h"
#include "agg/keys.h"
#include "agg/period.h"
#include "agg/record.h"
#include "agg/regions.h"

typedef struct {
    const char *bootstrap;
    const char *redis_url;
    const char *group;
    const char *topic_prefix;
    const char *key_prefix;
    const char *dlq_topic; /* NULL until defaulted from topic_prefix */
    const char *summary_topic;
    const char *regions_file;
    bool no_region_check;
    long batch_size;
    long batch_ms;
    long metrics_interval_ms;
    bool metrics_json;
    long exit_idle_ms;
    long offset_check_ms;
    /* Quarter close (SPEC 8). */
    const char *late_policy; /* "amend" or "reject" */
    bool late_reject;
    long amend_quiet_ms, amend_max_delay_ms;
    long deadline_day;
    const char *deadline_list; /* "2024-Q2=RFC3339,..." */
    bool no_deadline_close;
    long summary_partitions;
    agg_deadlines_t deadlines;
    char expected_regions_csv[AGG_REGIONS_MAX * 34]; /* the reference list, comma-joined */
    /* agg-worker replay (replay.c). */
    const char *replay_quarter;
    bool replay_verify, replay_json;
    long replay_lock_ms;
    const char *replay_path; /* "auto", "memory" or "batches" */
    long replay_memory_mb;
    struct replay_run *replay; /* set on the staging run's configuration only */
    long dlq_partitions;
    long dlq_max_bytes;
    bool quiet, verbose;
    agg_kprops_t kprops;
    agg_redis_url_t redis;
    agg_regions_t regions;
    char dlq_topic_buf[256];
    char summary_topic_buf[256];
} worker_conf_t;

extern volatile sig_atomic_t worker_stop; /* set by SIGTERM/SIGINT */

/* A consumed message, as the batch sees it (borrowed; must outlive the batch). */
typedef struct {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t offset;
    const void *opaque; /* the rd_kafka_message_t, for the DLQ */
} batch_msg_t;

/* ---- admit.c: what a message of a quarter topic is (live path and replay alike) ---- */

typedef struct {
    char topic[256];
    char qid[AGG_QUARTER_ID_LEN + 1];
    int year, quarter;
    bool bad_topic; /* a quarter topic of a year out of range: everything is refused */
} admit_topic_t;

/* The quarter of a topic of our prefix; -1 when it is not a quarter topic at all. */
int admit_topic(admit_topic_t *t, const worker_conf_t *conf, const char *topic);

typedef enum { ADMIT_RECORD, ADMIT_MARKER, ADMIT_REJECT } admit_t;

/* Decodes and checks one message into msg (strings borrowed from the arena). A marker
 * gets its defaults (requested now, the configured deadline) when it has none. A reject
 * gets its DLQ reason. late_reject: the partition is past its marker, the quarter
 * closed, and the late-record policy is reject. */
admit_t admit_message(const worker_conf_t *conf, const admit_topic_t *t, const batch_msg_t *m,
                      bool late_reject, agg_arena_t *arena, agg_msg_t *msg, char *reason,
                      size_t reasonsz);

/* ---- batch.c: one partition's messages -> exact deltas -> apply.lua arguments ---- */


typedef struct {
    batch_msg_t msg; /* a copy: the caller's array may move */
    char reason[384];
} batch_reject_t;

typedef struct batch batch_t;

/* The batch owns all its memory; batch_free() releases it. */
batch_t *batch_new(const worker_conf_t *conf);
void batch_free(batch_t *b);

/* Starts a batch for one partition of a quarter topic. Returns -1 when the topic is not
 * a quarter topic of our prefix. */
int batch_reset(batch_t *b, const char *topic, int32_t partition);

/* Adds one message: decoded and validated, or recorded as rejected (DLQ) with a reason.
 * Returns 1 when the message was a quarter-close marker, which ends the batch (records
 * after a close are applied after it), else 0. */
int batch_add(batch_t *b, const batch_msg_t *m);

size_t batch_count(const batch_t *b);   /* messages added */
size_t batch_valid(const batch_t *b);   /* records among them (not rejects, not the marker) */
/* The close marker that ended the batch, or NULL. */
const agg_close_t *batch_marker(const batch_t *b);
/* A marker written before v2 carries no partition count: the caller supplies the
 * topic's (before batch_script_args). */
void batch_set_marker_partitions(batch_t *b, int32_t n);
/* After batch_reset(): the partition is past its marker, its quarter closed, and the
 * late-record policy is reject: every record goes to the DLQ ("quarter-closed"). */
void batch_set_late_reject(batch_t *b, bool on);
const char *batch_quarter(const batch_t *b); /* "2024-Q2" */
size_t batch_rejects(const batch_t *b, const batch_reject_t **out);
int64_t batch_last_offset(const batch_t *b);
const char *batch_topic(const batch_t *b);
int32_t batch_partition(const batch_t *b);

/* Stored-state reads: after batch_add()s, the winning records (highest revision per
 * identity) grouped by record-state key. batch_read_cmds() returns how many HMGET
 * commands are needed; batch_read_cmd(i) gives argv for command i. */
size_t batch_read_cmds(batch_t *b);
int batch_read_cmd(batch_t *b, size_t i, int *argc, const char ***argv, const size_t **argvlen);
/* Hands the reply of read command i to the batch (the batch copies what it keeps).
 * Returns -1 with errstr when a stored state is corrupt. */
int batch_read_reply(batch_t *b, size_t i, const redisReply *reply, char *errstr,
                     size_t errstr_size);

/* Computes the deltas and the EVALSHA arguments (after the script sha, which the caller
 * prepends). expected < 0 means no stored offset. Valid until the next reset. */
int batch_script_args(batch_t *b, int64_t expected, int64_t now_ms, int *argc,
                      const char ***argv, const size_t **argvlen, char *errstr,
                      size_t errstr_size);
/* After an OVERFLOW answer for (scope key, field): the offsets (at most max) of the
 * changed records whose amount feeds that field of that scope. */
size_t batch_overflow_culprits(batch_t *b, const char *key, const char *field, int64_t *offs,
                               size_t max);
/* Removes the records at these offsets from the batch (they went to the DLQ); the next
 * batch_read_cmds() computes the winners again. */
void batch_remove_offsets(batch_t *b, const int64_t *offs, size_t n);
/* After batch_script_args: records that changed the aggregates / were no-ops. */
size_t batch_applied(const batch_t *b);
size_t batch_unchanged(const batch_t *b);

/* ---- store.c: the Redis connection, with reconnect and the apply script ---- */

typedef struct store store_t;

typedef enum {
    STORE_OK = 0,
    STORE_TRANSIENT = -1, /* connection lost, LOADING, BUSY, OOM...: retry later */
    STORE_FATAL = -2,     /* auth, wrong type, script runtime error: stop */
} store_rc_t;

store_t *store_new(const agg_redis_url_t *url);
void store_free(store_t *s);
/* Connects (if not connected), authenticates, selects the db, loads apply.lua. */
store_rc_t store_connect(store_t *s, char *errstr, size_t errstr_size);
bool store_connected(const store_t *s);
/* Drops the connection, e.g. when a pipeline's replies can no longer be matched to their
 * commands; the next store_connect() starts afresh. */
void store_disconnect(store_t *s);
/* Pipelining: append commands, then read their replies in order. A reply is owned by
 * the store until the next store_ call. */
store_rc_t store_append(store_t *s, int argc, const char **argv, const size_t *argvlen,
                        char *errstr, size_t errstr_size);
store_rc_t store_reply(store_t *s, redisReply **reply, char *errstr, size_t errstr_size);
typedef enum { STORE_SCRIPT_APPLY, STORE_SCRIPT_AMEND, STORE_SCRIPT_SWAP } store_script_t;
/* Appends EVALSHA of apply.lua or amend.lua with args (the sha is prepended here). */
store_rc_t store_append_script(store_t *s, store_script_t which, int argc,
                               const char **argv, const size_t *argvlen, char *errstr,
                               size_t errstr_size);
/* Classifies an error reply; NOSCRIPT is TRANSIENT after the script was reloaded. */
store_rc_t store_classify_error(store_t *s, const redisReply *reply, char *errstr,
                                size_t errstr_size);
/* One command (NUL-terminated arguments), one reply, owned by the store until the next
 * store_ call. An error reply is classified and returned as TRANSIENT or FATAL. */
store_rc_t store_command(store_t *s, redisReply **reply, char *errstr, size_t errstr_size,
                         int argc, const char **argv);
/* HGET of the stored next offset of a partition: 0 and *out (-1 = none), or an error. */
store_rc_t store_read_offset(store_t *s, const char *offsets_key, int32_t partition,
                             int64_t *out, char *errstr, size_t errstr_size);
unsigned long long store_roundtrips(const store_t *s);
/* Counts successful connects: a change means Redis may have restarted in between (and
 * lost its last second of writes: AOF everysec), so cached offsets must be re-read. */
unsigned long long store_generation(const store_t *s);

/* ---- dlq.c: dead-letter producer ---- */

typedef struct dlq dlq_t;

dlq_t *dlq_new(const worker_conf_t *conf, char *errstr, size_t errstr_size);
void dlq_free(dlq_t *d);
/* Queues the original message with headers source_topic, source_partition,
 * source_offset, reason. 0, -1 (retry later) or -2 (fatal producer error). */
int dlq_send(dlq_t *d, const rd_kafka_message_t *m, const char *reason, char *errstr,
             size_t errstr_size);
/* Waits until every queued message is acknowledged; stalls while the broker is down.
 * Returns 0, -1 when asked to stop first or when a delivery failed (the caller re-sends
 * the batch's rejects later: its offsets did not move), or -2 on a fatal producer error
 * (the worker stops gracefully with exit 1). */
int dlq_wait(dlq_t *d);
unsigned long long dlq_count(const dlq_t *d);

#endif
