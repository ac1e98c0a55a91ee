/* librdkafka plumbing shared by agg-produce and agg-worker: configuration with
 * pass-through properties, and topic creation. */
#include "agg/kafka.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agg/log.h"

/* librdkafka's own log lines, in our one-line format (its levels are syslog levels). */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    agg_log_level_t l = level <= 3 ? AGG_LOG_ERROR
                      : level <= 5 ? AGG_LOG_WARN
                      : level == 6 ? AGG_LOG_INFO
                                   : AGG_LOG_DEBUG;
    unsigned long suppressed = 0;
    /* While a broker is down librdkafka repeats its connection errors several times a
     * second; one line per facility per 10 s tells the same story. */
    if (l <= AGG_LOG_WARN && !agg_log_every(fac, 10000, &suppressed))
        return;
    agg_log(l, "rdkafka", "client=%s facility=%s suppressed=%lu msg=\"%s\"", rd_kafka_name(rk),
            fac, suppressed, buf);
}

rd_kafka_conf_t *agg_kafka_conf_new(const char *bootstrap, const char *const *defaults,
                                    const agg_kprops_t *props, char *errstr,
                                    size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];

    if (!conf) {
        snprintf(errstr, errstr_size, "rd_kafka_conf_new failed");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "bootstrap.servers=%s: %s", bootstrap, err);
        goto fail;
    }
    for (const char *const *d = defaults; d && d[0]; d += 2) {
        if (rd_kafka_conf_set(conf, d[0], d[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s=%s: %s", d[0], d[1], err);
            goto fail;
        }
    }
    for (size_t i = 0; props && i < props->count; i++) {
        if (rd_kafka_conf_set(conf, props->key[i], props->value[i], err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "-X %s=%s: %s", props->key[i],
                     agg_kprop_is_secret(props->key[i]) ? "(hidden)" : props->value[i], err);
            goto fail;
        }
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int agg_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                              char *errstr, size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err;
    int count = -1;

    if (!rkt) {
        snprintf(errstr, errstr_size, "topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, errstr_size, "metadata for %s: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    if (md->topic_cnt == 1) {
        const struct rd_kafka_metadata_topic *t = &md->topics[0];
        if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            count = 0;
        else if (t->err)
            snprintf(errstr, errstr_size, "metadata for %s: %s", topic,
                     rd_kafka_err2str(t->err));
        else
            count = t->partition_cnt;
    } else {
        snprintf(errstr, errstr_size, "metadata for %s: %d topics returned", topic,
                 md->topic_cnt);
    }
    rd_kafka_metadata_destroy(md);
    return count;
}

static int create_topic(rd_kafka_t *rk, const char *topic, int partitions,
                        int replication_factor, int timeout_ms, char *errstr,
                        size_t errstr_size) {
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic, partitions, replication_factor, err, sizeof err);
    rd_kafka_queue_t *q = NULL;
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    int rc = -1;

    if (!nt) {
        snprintf(errstr, errstr_size, "create %s: %s", topic, err);
        return -1;
    }
    q = rd_kafka_queue_new(rk);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (!q || !opts ||
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, err, sizeof err)) {
        snprintf(errstr, errstr_size, "create %s: admin setup failed", topic);
        goto out;
    }
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        snprintf(errstr, errstr_size, "create %s: no answer within %d ms", topic, timeout_ms);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "create %s: %s", topic, rd_kafka_event_error_string(ev));
        goto out;
    }
    {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        if (n != 1) {
            snprintf(errstr, errstr_size, "create %s: unexpected result", topic);
            goto out;
        }
        rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(tr[0]);
        if (terr && terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char *msg = rd_kafka_topic_result_error_string(tr[0]);
            snprintf(errstr, errstr_size, "create %s: %s", topic,
                     msg ? msg : rd_kafka_err2str(terr));
            goto out;
        }
        if (!terr)
            agg_info("topic_created", "topic=%s partitions=%d", topic, partitions);
    }
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (q)
        rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int agg_kafka_ensure_topic(rd_kafka_t *rk, const char *topic, int partitions,
                           int replication_factor, int timeout_ms, char *errstr,
                           size_t errstr_size) {
    long long deadline = agg_mono_ms() + timeout_ms;
    int n = agg_kafka_partition_count(rk, topic, timeout_ms, errstr, errstr_size);

    if (n != 0)
        return n;
    if (create_topic(rk, topic, partitions, replication_factor, timeout_ms, errstr,
                     errstr_size) != 0)
        return -1;
    /* Metadata lags creation by a moment; a producer that raced us is fine too. */
    while (agg_mono_ms() < deadline) {
        n = agg_kafka_partition_count(rk, topic, 2000, errstr, errstr_size);
        if (n > 0)
            return n;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(errstr, errstr_size, "topic %s created but not visible within %d ms", topic,
             timeout_ms);
    return -1;
}

rd_kafka_t *agg_kafka_reader_new(const char *bootstrap, const agg_kprops_t *props,
                                 char *errstr, size_t errstr_size) {
    return agg_kafka_reader_new_with(bootstrap, NULL, props, errstr, errstr_size);
}

rd_kafka_t *agg_kafka_reader_new_with(const char *bootstrap, const char *const *more,
                                      const agg_kprops_t *props, char *errstr,
                                      size_t errstr_size) {
    /* assign() needs no group; group.id is set only because librdkafka wants one for a
     * consumer handle. Nothing is committed. */
    const char *defaults[32] = {
        "enable.auto.commit", "false", "enable.partition.eof", "true",
        "group.id", "agg-topic-reader",
    };
    size_t n = 6;
    for (; more && more[0] && n + 3 < sizeof defaults / sizeof *defaults; more += 2) {
        defaults[n++] = more[0];
        defaults[n++] = more[1];
    }
    defaults[n] = NULL;
    rd_kafka_conf_t *kc = agg_kafka_conf_new(bootstrap, defaults, props, errstr, errstr_size);
    if (!kc)
        return NULL;
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(kc);
        snprintf(errstr, errstr_size, "consumer: %s", err);
    }
    return rk;
}

int agg_kafka_read_topic(const char *bootstrap, const agg_kprops_t *props, const char *topic,
                         int64_t tail, int timeout_ms, agg_kafka_read_cb_t *cb, void *opaque,
                         char *errstr, size_t errstr_size) {
    rd_kafka_t *rk = agg_kafka_reader_new(bootstrap, props, errstr, errstr_size);
    if (!rk)
        return -1;
    int rc = -1, remaining = 0;
    int nparts = agg_kafka_partition_count(rk, topic, timeout_ms, errstr, errstr_size);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(nparts > 0 ? nparts : 1);
    if (nparts < 0 || !l)
        goto out;
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
                                                                 timeout_ms);
        if (e) {
            snprintf(errstr, errstr_size, "%s [%d] watermarks: %s", topic, p,
                     rd_kafka_err2str(e));
            goto out;
        }
        if (hi <= lo)
            continue;
        rd_kafka_topic_partition_list_add(l, topic, p)->offset =
            tail >= 0 && hi - tail > lo ? hi - tail : lo;
        remaining++;
    }
    if (remaining > 0 && rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_size, "%s: assign failed", topic);
        goto out;
    }
    long long deadline = agg_mono_ms() + timeout_ms;
    while (remaining > 0) {
        if (agg_mono_ms() > deadline) {
            snprintf(errstr, errstr_size, "reading %s timed out after %d ms", topic,
                     timeout_ms);
            goto out;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int stop = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            remaining--;
        } else if (m->err) {
            snprintf(errstr, errstr_size, "%s: %s", topic, rd_kafka_message_errstr(m));
            stop = -1;
        } else {
            stop = cb(m, opaque, errstr, errstr_size);
        }
        rd_kafka_message_destroy(m);
        if (stop)
            goto out;
    }
    rc = nparts; /* 0 = no such topic */
out:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

int agg_kafka_fetch_offsets(const char *bootstrap, const agg_kprops_t *props, const char *topic,
                            int32_t partition, const int64_t *offsets, size_t n,
                            int timeout_ms, agg_kafka_read_cb_t *cb, void *opaque,
                            char *errstr, size_t errstr_size) {
    rd_kafka_t *rk = agg_kafka_reader_new(bootstrap, props, errstr, errstr_size);
    if (!rk)
        return -1;
    int rc = 0;
    long long deadline = agg_mono_ms() + timeout_ms;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        if (!l) {
            snprintf(errstr, errstr_size, "out of memory");
            rc = -1;
            break;
        }
        rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offsets[i];
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            snprintf(errstr, errstr_size, "%s [%d] assign: %s", topic, partition,
                     rd_kafka_err2str(e));
            rc = -1;
            break;
        }
        for (;;) {
            if (agg_mono_ms() > deadline) {
                snprintf(errstr, errstr_size, "%s [%d] offset %lld: not fetched within %d ms",
                         topic, partition, (long long)offsets[i], timeout_ms);
                rc = -1;
                break;
            }
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (!m)
                continue;
            if (m->err || m->offset != offsets[i]) {
                if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    snprintf(errstr, errstr_size, "%s [%d]: %s", topic, partition,
                             rd_kafka_message_errstr(m));
                    rc = -1;
                }
                rd_kafka_message_destroy(m);
                if (rc)
                    break;
                continue;
            }
            rc = cb(m, opaque, errstr, errstr_size) ? -1 : 0;
            rd_kafka_message_destroy(m);
            break;
        }
    }
    rd_kafka_assign(rk, NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
