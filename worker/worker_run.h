/* The consumer loop of agg-worker (consume.c). */
#ifndef AGG_WORKER_RUN_H
#define AGG_WORKER_RUN_H

#include "worker.h"

typedef struct worker_run worker_run_t;

/* Runs until SIGTERM/SIGINT, --exit-idle-ms, or a fatal error. Returns the exit code:
 * 0 after a graceful stop, 1 on a fatal error, 2 on bad configuration. */
int worker_run(const worker_conf_t *conf);

#endif
