#!/usr/bin/env bash
# timeout: 300
#
# Graceful stop (SPEC 7): SIGTERM while the worker applies -> it finishes the batch,
# exits 0 within a few seconds and says so in its log; a new worker in the same group
# carries on from the stored offsets; totals exact. Then a topic of a new quarter,
# created while that worker runs, is picked up (regex subscription) within 30 s.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# New topics are seen on the next metadata refresh (librdkafka's default is 5 min).
WORKER_OPTS=(-X topic.metadata.refresh.interval.ms=5000)

gen_data 80000 70 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"

start_worker w1 "${WORKER_OPTS[@]}"
w1=$WORKER_PID
wait_progress 0 90 || fail "no progress within 90 s"
kill -TERM "$w1"
t0=$(now_s)
wait_exit "$w1" 15
rc=$EXIT_RC
took=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')
at=$(applied_all)
log "w1 got SIGTERM, exited with status $rc after $took s; applied $at / $DATA_TOTAL"
expect_eq "exit status after SIGTERM" 0 "$rc"
awk -v t="$took" 'BEGIN { exit !(t <= 10) }' || mismatch "w1 took $took s to stop (limit 10 s)"
# The last lines say what a graceful stop does: the batch in hand applied (no
# stop_with_unapplied_batch), the partitions handed back, then "stopped exit_code=0".
grep -q ' info stopped exit_code=0$' "$TEST_DIR/w1.log" ||
    mismatch "w1's log does not end with 'stopped exit_code=0': $(tail -n 3 "$TEST_DIR/w1.log")"
grep -q 'stop_with_unapplied_batch' "$TEST_DIR/w1.log" &&
    mismatch "w1 stopped with an unapplied batch although Redis was up"
grep -q 'partition_revoked' "$TEST_DIR/w1.log" || mismatch "w1 did not hand its partitions back"

count_data "${DATA_FILES[@]}"
publish "${DATA_FILES[@]:1}"
start_worker w2 "${WORKER_OPTS[@]}"
wait_applied_all 300
log "w2 applied the rest ($DATA_TOTAL in all)"
reference "${DATA_FILES[@]}" || mismatch "reference.py found differences after the graceful stop"

# A new quarter: its topic does not exist yet and is created by the producer now.
cat >"$TEST_DIR/new-quarter.csv" <<'EOF'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2025,1,3,3.1.1,count,10,9,90,1,2025-04-05T10:00:00Z
bulgan,2025,1,6.1,6.1.1,mnt,1000,500,50,1,2025-04-06T10:00:00Z
EOF
publish "$TEST_DIR/new-quarter.csv"
t0=$(now_s)
wait_applied "${TOPIC_PREFIX}2025-Q1" 2 60
took=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')
log "new topic ${TOPIC_PREFIX}2025-Q1 applied $took s after it was published"
awk -v t="$took" 'BEGIN { exit !(t <= 30) }' || mismatch "new quarter topic picked up after $took s (limit 30 s)"
hash_equals "$KEY_PREFIX:2025-Q1:total" "indicators=2 assessed=2 completion_sum_x100=14000
    completion_avg=70.00 met=0 partial=2 unmet=0 target_x100:count=1000
    achieved_x100:count=900 target_x100:mnt=100000 achieved_x100:mnt=50000"
reference "${DATA_FILES[@]}" "$TEST_DIR/new-quarter.csv" || mismatch "reference.py with the new quarter"
alive "$WORKER_PID" || fail "w2 exited"
assert_all_passed
