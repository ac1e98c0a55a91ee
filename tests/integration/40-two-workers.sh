#!/usr/bin/env bash
# timeout: 600
#
# Scale-out and takeover (SPEC 7): two workers in one consumer group share a six
# partition topic of >= 50,000 rows; one is killed with SIGKILL while they apply; the
# other takes over its partitions (after the session timeout) and everything published
# afterwards, on every partition, is applied by it alone. Exact totals by
# tests/reference.py, including the national rollups both workers wrote.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

WORKER_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

gen_data 72000 40 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
((DATA_TOTAL >= 50000)) || fail "wave 1 has only $DATA_TOTAL rows"
log "wave 1: $DATA_TOTAL rows; waves 2-5 follow after the kill"
publish "$TEST_DIR/data/wave-1.csv"

start_worker w1 "${WORKER_OPTS[@]}"
w1=$WORKER_PID
start_worker w2 "${WORKER_OPTS[@]}"
w2=$WORKER_PID
log "workers w1 (pid $w1) and w2 (pid $w2) in group $GROUP"

# Kill w1 once both members hold partitions and a part of the topic is applied. The
# broker forms the group at once (group.initial.rebalance.delay.ms=0), so either worker
# may start alone and the other's join rebalances the group a moment later: wait until
# both have been assigned partitions, bounded.
both=0
for ((i = 0; i < 300; i++)); do
    if grep -q 'partition_assigned' "$TEST_DIR/w1.log" 2>/dev/null &&
        grep -q 'partition_assigned' "$TEST_DIR/w2.log" 2>/dev/null; then
        both=1
        break
    fi
    sleep 0.1
done
((both)) || fail "after 30 s not both workers hold partitions (w1: $(grep -c partition_assigned "$TEST_DIR/w1.log"), w2: $(grep -c partition_assigned "$TEST_DIR/w2.log"))"
wait_progress $((DATA_TOTAL / 10)) 90 || fail "no progress within 90 s"
kill -KILL "$w1"
wait "$w1" 2>/dev/null || true
at=$(applied_all)
log "w1 killed with SIGKILL at $at / $DATA_TOTAL applied"
((at < DATA_TOTAL)) || log "note: wave 1 was already fully applied at the kill"

# Everything else (corrections of every region, so every partition) after the kill.
count_data "${DATA_FILES[@]}"
publish "${DATA_FILES[@]:1}"
t0=$(now_s)
wait_applied_all 300
log "w2 applied the rest ($DATA_TOTAL in all) $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }') s after the last publish"
alive "$w2" || fail "w2 exited"

reference "${DATA_FILES[@]}" || mismatch "reference.py found differences"
assert_all_passed
