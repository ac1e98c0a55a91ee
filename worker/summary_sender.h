/* The summary sender (summary_sender.c). Internal to agg-worker. */
#ifndef AGG_WORKER_SUMMARY_SENDER_H
#define AGG_WORKER_SUMMARY_SENDER_H

#include "worker.h"

typedef struct summary_sender summary_sender_t;

/* A sender identified by member (the lock's value). NULL with errstr on failure. */
summary_sender_t *sender_new(const worker_conf_t *conf, const char *member, char *errstr,
                             size_t errstr_size);
void sender_free(summary_sender_t *s);
/* Sends the head of the outbox if this worker holds (or can take) the sender lock.
 * Returns 0 when the outbox is empty or another worker sends, 1 when entries remain
 * (Redis or broker trouble, or more than one drain's worth: call again soon), -1 on a
 * fatal producer error (the worker stops gracefully with exit 1). */
int sender_drain(summary_sender_t *s, store_t *store);
unsigned long long sender_sent(const summary_sender_t *s);
/* Writes value to partitions 0..n-1 of topic (close markers at the deadline) and waits
 * until every copy is acknowledged or failed (message.timeout.ms bounds it). 0 or -1. */
int sender_produce_partitions(summary_sender_t *s, const char *topic, int n,
                              const void *value, size_t len, char *err, size_t errsz);

#endif
