/* rebalance.c: assignment positions each partition at its stored offset; revocation
 * applies what is held first (a lost assignment drops it: another member owns it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/log.h"
#include "worker_run.h"

void rebalance_assign(worker_run_t *w, rd_kafka_topic_partition_list_t *parts) {
    char err[256], key[AGG_KEY_MAX];
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t stored = -1;
        long delay = 100;
        part_t *p = NULL;
        if (agg_key_offsets(key, sizeof key, w->conf->key_prefix, tp->topic) < 0) {
            agg_error("topic_name_too_long", "topic=%s", tp->topic);
            continue;
        }
        for (;;) {
            store_rc_t rc = store_connect(w->store, err, sizeof err);
            if (rc == STORE_OK)
                rc = store_read_offset(w->store, key, tp->partition, &stored, err, sizeof err);
            if (rc == STORE_OK) {
                p = part_add(w, tp->topic, tp->partition);
                if (!p) {
                    agg_error("out_of_memory", "what=partition");
                    abort();
                }
                if (close_read_state(w, p, err, sizeof err) == 0)
                    break;
                rc = STORE_TRANSIENT;
            }
            worker_note_error(w, "redis_unavailable", err);
            if (rc == STORE_FATAL || worker_stop) {
                worker_stop = 1;
                if (rc == STORE_FATAL)
                    w->exit_code = 1;
                return;
            }
            worker_backoff(&delay);
        }
        tp->offset = stored >= 0 ? stored : RD_KAFKA_OFFSET_BEGINNING;
        p->expected = stored;
        part_check_log_end(w, p);
        agg_info("partition_assigned", "topic=%s partition=%d offset=%" PRId64 "%s", tp->topic,
                 tp->partition, stored, p->close_held ? " held=past_close_marker" : "");
    }
}

void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    worker_run_t *w = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

    w->last_activity_ms = agg_mono_ms();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rebalance_assign(w, parts);
        if (worker_stop && w->exit_code)
            return;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (!error && !aerr) {
            close_pause_held(w); /* a pause applies to assigned partitions only */
            for (int i = 0; i < parts->cnt; i++) {
                part_t *p = part_find(w, parts->elems[i].topic, parts->elems[i].partition);
                if (p && p->refused)
                    part_pause(w, p, true);
            }
        }
    } else {
        if (rd_kafka_assignment_lost(rk)) {
            agg_warn("assignment_lost", "partitions=%d action=drop_batches", parts->cnt);
        } else {
            /* Still ours until we return: apply what we hold for them. */
            apply_flush(w);
        }
        for (int i = 0; i < parts->cnt; i++) {
            part_t *p = part_find(w, parts->elems[i].topic, parts->elems[i].partition);
            if (p)
                part_remove(w, p);
            agg_info("partition_revoked", "topic=%s partition=%d", parts->elems[i].topic,
                     parts->elems[i].partition);
        }
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        agg_error("assign_failed", "error=\"%s\"", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (aerr) {
        agg_error("assign_failed", "error=\"%s\"", rd_kafka_err2str(aerr));
    }
}
