/* The consumer loop's shared state: the partition table, the counters, and the
 * functions each part of the loop offers the others. Internal to agg-worker.
 *
 *   consume.c    the main loop: poll, batch per partition, when to apply
 *   partitions.c the partition table and each partition's cached stored offset
 *   apply.c      the apply protocol: DLQ the rejects, read states, one script per batch
 *   rebalance.c  assignment (seek to the stored offset) and revocation
 *   prefetch.c   the librdkafka 2.0.2 fetcher wake-up
 *   metrics.c    counters, lag, the metrics line and hash, last error
 *   backoff.c    waiting between retries */
#ifndef AGG_WORKER_RUN_H
#define AGG_WORKER_RUN_H

#include "worker.h"

typedef struct worker_run worker_run_t;

typedef struct {
    bool used;
    char topic[256];
    int32_t partition;
    int64_t expected; /* next offset the stored state expects; -1 = none stored */
    batch_t *batch;
    bool batch_open;
    /* Rejected messages, held until the batch is applied or dropped: the DLQ copy needs
     * their bytes and headers. Every other message is released as soon as the batch has
     * decoded it (the batch keeps its own copy), so a batch costs its records only. */
    rd_kafka_message_t **held;
    size_t nheld, held_cap;
    bool dlq_sent; /* rejects of the open batch already acknowledged by the DLQ */
    /* A seek back to the stored offset failed: until one succeeds, the consumer's
     * position is not where the stored state expects, so messages are dropped. */
    bool seek_pending;
    long long seek_retry_ms;
    char qid[AGG_QUARTER_ID_LEN + 1]; /* the topic's quarter */
    /* Quarter close (close.c): the partition applied its close marker; while its
     * quarter is still open it is held (paused, its messages dropped and fetched again
     * from the stored offset on resume). */
    bool past_marker;
    bool close_held;
    bool replay_held; /* a replay of the quarter runs (replay_hold.c) */
    /* The stored offset lies beyond the log end (a recreated or truncated topic): the
     * partition is paused and nothing of it applied until the stored offset is right. */
    bool refused;
} part_t;

typedef struct {
    unsigned long long records_applied, records_unchanged, rejects, batches, fenced,
        conflicts, redis_errors, messages, offsets_moved;
} counters_t;

struct worker_run {
    const worker_conf_t *conf;
    rd_kafka_t *rk;
    store_t *store;
    dlq_t *dlq;
    struct summary_sender *sender;
    part_t *parts;
    size_t nparts;
    size_t pending; /* messages in open batches (decoded; only rejects still held) */
    long long batch_started_ms;
    long long last_activity_ms;
    counters_t c;
    char last_error[256];
    char member[128];
    int exit_code;
    long long flush_deadline_ms; /* 0 = none; bounds the last flush of a graceful stop */
    rd_kafka_queue_t *consumer_q;
    size_t prefetch_max;   /* effective queued.min.messages */
    bool fetcher_may_park; /* the prefetch queue came near prefetch_max since the last wake */
    unsigned long long offsets_generation; /* store_generation() at the last offset check */
    long long next_offset_check_ms;
    bool outbox_dirty; /* a close or amendment just wrote summaries: send them now */
};


/* Runs until SIGTERM/SIGINT, --exit-idle-ms, or a fatal error. Returns the exit code:
 * 0 after a graceful stop, 1 on a fatal error, 2 on bad configuration. */
int worker_run(const worker_conf_t *conf);

/* partitions.c */
part_t *part_find(worker_run_t *w, const char *topic, int32_t partition);
/* Adds (or finds) a partition; NULL when out of memory or the topic name is too long. */
part_t *part_add(worker_run_t *w, const char *topic, int32_t partition);
/* Forgets the partition's open batch and releases the messages it held. */
void part_drop_batch(worker_run_t *w, part_t *p);
void part_remove(worker_run_t *w, part_t *p);
/* Moves the consumer to the offset the stored state expects (-1 = from the beginning). */
void part_seek_to_stored(worker_run_t *w, part_t *p, int64_t stored);
/* Refuses (pauses) the partition when its stored offset lies beyond the log end, with
 * an error naming topic, partition, stored and end offsets. 0 = fine, -1 = refused. */
int part_check_log_end(worker_run_t *w, part_t *p);
/* Pauses (or resumes) fetching one partition: held partitions (close, replay). */
void part_pause(worker_run_t *w, part_t *p, bool pause);
/* Re-reads the stored offset of every owned partition without an open batch and seeks
 * to it where it differs from the cached one. Run after every reconnect and once per
 * --offset-check-ms: a partition that gets no new message would otherwise never notice
 * that Redis lost (or another member wrote) its last batches. Returns 0, or -1 when
 * Redis did not answer (the next run tries again). */
int part_check_offsets(worker_run_t *w);

/* close.c: the aligned close, as the worker sees it. */
/* Reads whether the partition is past its marker and whether its quarter is closed;
 * holds it when past the marker of an open quarter. 0, or -1 when Redis failed. */
int close_read_state(worker_run_t *w, part_t *p, char *errstr, size_t errstr_size);
/* After a batch was applied: status is the script's ("open", "closed", "closed-now"). */
void close_on_applied(worker_run_t *w, part_t *p, bool had_marker, const char *status);
/* The script refused records past the marker of an open quarter: hold. */
void close_on_hold(worker_run_t *w, part_t *p);
/* Pauses the consumer on every held partition (after an assignment). */
void close_pause_held(worker_run_t *w);
/* Resumes held partitions whose quarter has closed (by any worker). */
void close_check_holds(worker_run_t *w);

/* replay_hold.c: the live side of a replay. */
void replay_on_hold(worker_run_t *w, part_t *p);
/* Resumes partitions held for a replay that has ended, from the stored offset. */
void replay_check_holds(worker_run_t *w);

/* replay.c: the staging run's part of the loop. */
/* Assigns every partition of the replayed topic (instead of subscribing). 0 or -1. */
int replay_assign(worker_run_t *w);
/* A message at or past the end the replay reads up to: not applied. */
bool replay_beyond_end(const worker_run_t *w, const part_t *p, int64_t offset);
/* Renews the lock, shows progress; true when every partition is at its end (or held
 * at its close marker) and nothing is pending. */
bool replay_tick(worker_run_t *w);
/* Copies the run's counters into the replay's report. */
void replay_collect(worker_run_t *w);

/* amend.c: emits the amended summaries of closed quarters once their late records
 * have come to rest. */
void amend_check(worker_run_t *w);
/* deadline_close.c: writes the close markers of quarters past their deadline. */
void deadline_check(worker_run_t *w);

/* apply.c: applies every open batch; stalls through Redis and broker outages. Returns
 * 0 when all are applied (or dropped as fenced), -1 when stopped first or fatal. */
int apply_flush(worker_run_t *w);

/* rebalance.c: positions newly assigned partitions at their stored offsets (and holds
 * those past the close marker of an open quarter); then the callback assigns them. */
void rebalance_assign(worker_run_t *w, rd_kafka_topic_partition_list_t *parts);
/* rebalance.c: the librdkafka rebalance callback (opaque = the worker_run_t). */
void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t *parts, void *opaque);

/* prefetch.c */
void prefetch_mark_may_park(worker_run_t *w);
void prefetch_wake(worker_run_t *w);

/* metrics.c */
void metrics_report(worker_run_t *w);
/* Records err as the last error and logs it, one line per 5 s per event. */
void worker_note_error(worker_run_t *w, const char *event, const char *err);

/* backoff.c */
void worker_sleep_ms(long ms);
/* Sleeps the next step of an exponential backoff (100 ms .. 5 s), in short slices so a
 * stop request is seen quickly. */
void worker_backoff(long *delay_ms);

#endif
