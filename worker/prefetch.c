/* prefetch.c: keeps librdkafka 2.0.2 fetching with a small prefetch bound. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"


/* librdkafka 2.0.2 stops fetching once the prefetch queue holds queued.min.messages and
 * looks again only when its broker thread next wakes, up to 1 s later (2.3.0 added
 * fetch.queue.worker_backoff.ms for this). A small prefetch, which is what keeps the worker's
 * memory flat, would then starve it. So when the worker has drained the queue after it
 * came near the bound, it wakes the fetchers itself: a seek of every assigned partition
 * to its current position (the next offset the application would get, so nothing is
 * skipped or repeated). The queue being empty, the seek discards nothing queued; a fetch
 * response in flight at that moment is dropped and fetched again. While the worker keeps
 * up (live tailing) the queue never comes near the bound and nothing is sought. */
void prefetch_mark_may_park(worker_run_t *w) {
    if (w->prefetch_max && rd_kafka_queue_length(w->consumer_q) >= w->prefetch_max / 2)
        w->fetcher_may_park = true;
}

void prefetch_wake(worker_run_t *w) {
    if (!w->fetcher_may_park || rd_kafka_queue_length(w->consumer_q) > 0)
        return;
    w->fetcher_may_park = false;
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(w->rk, &list);
    if (!err)
        err = rd_kafka_position(w->rk, list);
    if (!err) {
        rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(list->cnt);
        for (int i = 0; at && i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &list->elems[i];
            const part_t *p = part_find(w, tp->topic, tp->partition);
            /* No position yet (nothing consumed, or just sought): nothing to keep. */
            if (tp->offset < 0 || !p || p->seek_pending)
                continue;
            rd_kafka_topic_partition_list_add(at, tp->topic, tp->partition)->offset =
                tp->offset;
        }
        if (at && at->cnt > 0) {
            rd_kafka_error_t *e = rd_kafka_seek_partitions(w->rk, at, 0 /* async */);
            if (e) {
                worker_note_error(w, "fetch_wake_failed", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        }
        if (at)
            rd_kafka_topic_partition_list_destroy(at);
    } else {
        worker_note_error(w, "fetch_wake_failed", rd_kafka_err2str(err));
    }
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
}
