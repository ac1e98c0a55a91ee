#!/usr/bin/env bash
# timeout: 600
#
# Broker restart (SPEC 7, "Broker down: same"): the broker is stopped while the worker
# applies and started again after a few seconds (scripts/stack.sh kafka-stop /
# kafka-start; the broker keeps its log). The worker must stay up, resume on its own,
# apply what is published after the restart, and the totals must be exact.
#
# This stops the shared stack's broker: do not run it beside other users of the stack.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

DOWN=${OUTAGE_SECONDS:-5}

gen_data 100000 55 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"
log "wave 1: $DATA_TOTAL rows"

start_worker worker
wait_progress 0 90 || fail "no progress within 90 s"
at=$(applied_all)
service_stop kafka
log "broker stopped (about $at / $DATA_TOTAL applied before; $(applied_all) after)"
sleep "$DOWN"
alive "$WORKER_PID" || fail "worker exited while the broker was down (see $TEST_DIR/worker.log)"
service_start kafka
alive "$WORKER_PID" || fail "worker exited while the broker was down"
log "broker up again; applied so far: $(applied_all)"

count_data "${DATA_FILES[@]}"
publish "${DATA_FILES[@]:1}"
wait_applied_all 300
alive "$WORKER_PID" || fail "worker exited after the broker restart"
log "all $DATA_TOTAL applied; worker still running"

reference "${DATA_FILES[@]}" || mismatch "reference.py found differences after the broker restart"
assert_all_passed
