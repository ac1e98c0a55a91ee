/* apply_args.c: the fixed arguments of an apply.lua step (apply_args.h names them). */
#include "apply_args.h"

#include <stdio.h>

int apply_fixed_args(args_t *a, const worker_conf_t *conf, const apply_step_t *s,
                     char *errstr, size_t errstr_size) {
    char key[AGG_KEY_MAX];
    size_t at = a->n;
    if (agg_key_offsets(key, sizeof key, conf->key_prefix, s->topic) < 0) {
        snprintf(errstr, errstr_size, "offsets key too long for topic %s", s->topic);
        return -1;
    }
    args_str(a, key);
    args_i64(a, s->partition);
    if (s->expected >= 0)
        args_i64(a, s->expected);
    else
        args_str(a, "");
    args_i64(a, s->next_offset);
    args_i64(a, s->now_ms);
    agg_key_state(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    agg_key_quarters(key, sizeof key, conf->key_prefix);
    args_str(a, key);
    args_str(a, s->qid);
    args_i64(a, (int64_t)s->year * 10 + s->quarter);
    agg_key_regions(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    agg_key_goals(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    if (s->marker) {
        args_i64(a, s->marker->requested_ms);
        args_i64(a, s->marker->partitions);
        args_i64(a, s->marker->deadline_ms);
        args_str(a, s->marker->requested_by);
    } else {
        for (int k = 0; k < 4; k++)
            args_str(a, "");
    }
    agg_key_closed_partitions(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    agg_key_regions_first(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    agg_key_scope_base(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    agg_key_outbox(key, sizeof key, conf->key_prefix);
    args_str(a, key);
    args_str(a, s->topic);
    args_str(a, conf->expected_regions_csv);
    args_i64(a, s->nvalid);
    agg_key_replay_lock(key, sizeof key, conf->key_prefix, s->qid);
    args_str(a, key);
    if (a->n - at != APPLY_ARG__FIXED) {
        snprintf(errstr, errstr_size, "apply.lua arguments: %zu fixed, want %d", a->n - at,
                 APPLY_ARG__FIXED);
        return -1;
    }
    return 0;
}
