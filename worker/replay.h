/* agg-worker replay (replay.c): recompute a quarter from its topic into staging keys,
 * then verify them against the live keys or swap them in. Internal to agg-worker. */
#ifndef AGG_WORKER_REPLAY_H
#define AGG_WORKER_REPLAY_H

#include <stdint.h>

#include "worker.h"

/* What the staging run needs and what it reports back; the staging run is worker_run()
 * itself, with this on its configuration (the live path's code, applied to other keys). */
typedef struct replay_run {
    char topic[256];
    int nparts;
    int64_t *ends;            /* per partition: the end offset the replay reads up to */
    int64_t total;            /* messages to read over all partitions */
    char lock_key[256];       /* the live deployment's replay lock of the quarter */
    char member[128];         /* the lock's value */
    const worker_conf_t *live; /* the live configuration (its key prefix) */
    bool tty;                 /* progress in place on stderr */
    long long started_ms, last_progress_ms, next_renew_ms;
    bool lock_lost;
    bool finished;            /* the staging run reached every end */
    /* Reported by the staging run. */
    unsigned long long messages, records_applied, records_unchanged, rejects;
    int held_partitions;
    const char *path;         /* "memory" or "batches" */
    char fallback[512];       /* why the memory path gave way to the batches, or "" */
    size_t memory_bytes;      /* the memory path's tables at their largest */
    long long read_ms, write_ms; /* the memory path: reading + computing, staging writes */
} replay_run_t;

/* Renews the replay's lock when due and shows the progress (done of total messages)
 * on a terminal. false when the lock was lost (it expired; another replay may run). */
bool replay_keepalive(replay_run_t *r, store_t *st, int64_t done);
/* Between two steps of the replay (no Redis reply pending): false, with errstr
 * ("stopped" or "the replay lock expired"), when it must stop here. */
bool replay_go_on(replay_run_t *r, store_t *st, int64_t done, char *errstr,
                  size_t errstr_size);

/* agg-worker replay --quarter Q [--verify] [--json]: returns the exit code (0 done or
 * equal, 1 different (--verify) or failed, 2 usage). */
int replay_main(worker_conf_t *conf);

#endif
