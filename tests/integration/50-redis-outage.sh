#!/usr/bin/env bash
# timeout: 600
#
# Outages stall, never lose (SPEC 7): Redis is stopped for 10 s while the worker is
# applying (scripts/stack.sh redis-stop / redis-start; Redis keeps its data in its
# append-only file), and more rows are published during the outage; then it is killed
# with SIGKILL for 3 s. The worker must stay up, resume on its own, and the totals must
# be exact afterwards.
#
# This stops the shared stack's Redis: do not run it beside other users of the stack.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

OUTAGE=${OUTAGE_SECONDS:-10}

gen_data 100000 50 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"
log "wave 1: $DATA_TOTAL rows"

start_worker worker
wait_progress 0 90 || fail "no progress within 90 s"
at=$(applied_all)
service_stop redis
t_stop=$(date +%s)
log "Redis stopped for ${OUTAGE} s (about $at / $DATA_TOTAL of wave 1 applied before)"

# More work arrives during the outage (waves 2-3: corrections of every region).
count_data "${DATA_FILES[@]:0:3}"
publish "${DATA_FILES[@]:1:2}"
while (($(date +%s) < t_stop + OUTAGE)); do
    alive "$WORKER_PID" || fail "worker exited during the Redis outage (see $TEST_DIR/worker.log)"
    sleep 0.5
done
alive "$WORKER_PID" || fail "worker exited during the Redis outage"
service_start redis
log "Redis started again after $(($(date +%s) - t_stop)) s; applied so far: $(applied_all)"

# A second, harder outage: Redis is killed (SIGKILL, no clean shutdown; the
# append-only file is fsynced once a second) as soon as the worker is applying again,
# for 3 s.
at=$(applied_all)
wait_progress "$at" 90 || fail "no progress within 90 s after Redis came back"
at=$(applied_all)
service_stop redis --kill
log "Redis killed for 3 s (about $at / $DATA_TOTAL applied before)"
count_data "${DATA_FILES[@]}"
publish "${DATA_FILES[@]:3}"
sleep 3
alive "$WORKER_PID" || fail "worker exited after Redis was killed"
service_start redis

wait_applied_all 300
alive "$WORKER_PID" || fail "worker exited after the outage"
log "all $DATA_TOTAL applied; worker still running"
grep -iE 'redis' "$TEST_DIR/worker.log" | head -5 | sed 's/^/    worker log: /' || true

reference "${DATA_FILES[@]}" || mismatch "reference.py found differences after the Redis outage"
assert_all_passed
