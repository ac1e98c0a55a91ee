/* backoff.c: waiting between retries of a stalled step. */
#include <time.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

void worker_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sleeps the next step of an exponential worker_backoff (100 ms .. 5 s), in short slices so a
 * stop request is seen quickly. */
void worker_backoff(long *delay_ms) {
    for (long slept = 0; slept < *delay_ms && !worker_stop; slept += 100)
        worker_sleep_ms(100);
    *delay_ms = *delay_ms * 2 > 5000 ? 5000 : *delay_ms * 2;
}
