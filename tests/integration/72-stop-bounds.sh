#!/usr/bin/env bash
# timeout: 180
#
# Stopping is bounded in every state (hardening, item 6):
#  1. a fatal error of the DLQ producer (raised through librdkafka's test hook, the way
#     it raises one itself) stops the worker with exit 1, the batch unapplied (its
#     offset unmoved: the next owner re-reads it), instead of retrying forever;
#  2. SIGTERM during start-up with Redis down: exit 0 within 20 s;
#  3. SIGTERM during start-up with the broker down: exit 0 within 25 s.
#
# This stops the shared stack's Redis and broker: do not run it beside other users.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
printf 'region,year,quarter,goal,indicator,completion,submitted_at\nkhovd,2024,3,3,3.1.1,100,2024-10-01T00:00:00Z\n' >"$TEST_DIR/ok.csv"
publish "$TEST_DIR/ok.csv"
start_worker worker
wait_applied "$TOPIC" 1 60
kill -TERM "$WORKER_PID"
wait_exit "$WORKER_PID" 30
p0=$(rcli HGET "$KEY_PREFIX:internal:offsets:$TOPIC" 0)

# 1. An undecodable message: its copy must reach the DLQ before its offset moves.
printf 'not a protobuf' | kc -P -t "$TOPIC" -p 0 -k khovd
t0=$(date +%s)
AGG_TEST_DLQ_FATAL=1 start_worker fatal
wait_exit "$WORKER_PID" 60
expect_eq "fatal DLQ producer error: exit code" 1 "$EXIT_RC"
grep -q 'dlq_producer_fatal' "$TEST_DIR/fatal.log" || mismatch "no dlq_producer_fatal in the log"
expect_eq "partition 0's offset did not move past the reject" "$p0" "$(rcli HGET "$KEY_PREFIX:internal:offsets:$TOPIC" 0)"
log "fatal DLQ producer error: exit $EXIT_RC after $(($(date +%s) - t0)) s"

# 2. SIGTERM while the worker waits for Redis at start-up.
service_stop redis
start_worker redis-down
sleep 2
t0=$(date +%s)
kill -TERM "$WORKER_PID"
wait_exit "$WORKER_PID" 20
expect_eq "SIGTERM at start-up, Redis down: exit code" 0 "$EXIT_RC"
log "SIGTERM at start-up with Redis down: exit $EXIT_RC after $(($(date +%s) - t0)) s"
service_start redis

# 3. SIGTERM while the worker waits for the broker at start-up.
service_stop kafka
start_worker kafka-down
sleep 2
t0=$(date +%s)
kill -TERM "$WORKER_PID"
wait_exit "$WORKER_PID" 25
expect_eq "SIGTERM at start-up, broker down: exit code" 0 "$EXIT_RC"
log "SIGTERM at start-up with the broker down: exit $EXIT_RC after $(($(date +%s) - t0)) s"
service_start kafka
assert_all_passed
