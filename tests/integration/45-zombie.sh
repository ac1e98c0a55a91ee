#!/usr/bin/env bash
# timeout: 180
#
# A paused zombie (hardening, item 8): w1 applies wave 1 and is frozen with SIGSTOP past
# the session timeout; w2 takes every partition over and applies wave 2. SIGCONT: w1's
# fetchers resume from their old positions, for partitions it believed it owned.
# librdkafka notices the expired session first and reports the assignment lost (the
# worker drops what it holds); should a batch get through before that, the stored
# offsets fence it. Asserted: w1 gives its partitions up counted as lost, applies
# nothing after waking (its records_applied stays at wave 1), and the totals are exact.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 --metrics-interval-ms 500)
gen_data 6000 45 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"
start_worker w1 "${OPTS[@]}"
w1=$WORKER_PID
wait_applied_all 90
kill -STOP "$w1"
log "w1 frozen after wave 1 ($DATA_TOTAL)"
start_worker w2 "${OPTS[@]}"
w2=$WORKER_PID
count_data "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv"
publish "$TEST_DIR/data/wave-2.csv"
wait_applied_all 90
log "w2 applied wave 2 ($DATA_TOTAL in all)"
kill -CONT "$w1"
sleep 6
alive "$w1" || fail "w1 exited after SIGCONT"
# Its last metrics line counts what the stored offsets refused.
m=$(grep ' info metrics ' "$TEST_DIR/w1.log" | tail -1)
applied=$(sed -n 's/.* records_applied=\([0-9]*\).*/\1/p' <<<"$m")
fenced=$(sed -n 's/.* fenced=\([0-9]*\).*/\1/p' <<<"$m")
moved=$(sed -n 's/.* offsets_moved=\([0-9]*\).*/\1/p' <<<"$m")
log "w1 after SIGCONT: records_applied=$applied fenced=$fenced offsets_moved=$moved"
wave1=$(python3 "$ROOT/tests/reference.py" --counts "$TEST_DIR/data/wave-1.csv" | awk '{print $2}')
unchanged=$(sed -n 's/.* records_unchanged=\([0-9]*\).*/\1/p' <<<"$m")
expect_eq "records the zombie applied or skipped (wave 1 only)" "$wave1" "$((applied + unchanged))"
expect_eq "the zombie's assignment counted as lost" 1 \
    "$(grep -c 'assignment_lost partitions=6 action=drop_batches' "$TEST_DIR/w1.log")"
wait_applied_all 30
reference "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv" ||
    mismatch "reference.py: the zombie changed the totals"
assert_all_passed
