#!/usr/bin/env bash
# timeout: 180
#
# Stored offset beyond the log end (hardening, item 5): a quarter topic is deleted and
# created again (or truncated) while Redis keeps the offsets of the old one. On
# assignment the worker compares each stored offset with the partition's high watermark
# and refuses the partitions where it lies beyond: an error naming topic, partition,
# stored and end offsets, nothing of them applied -- never messages dropped silently.
# The documented recovery, agg-worker replay, recomputes the quarter from the new topic
# and sets the offsets right; the worker then accepts the partitions again and applies
# what is published afterwards.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
gen_data 600 57 "$Q"
publish "$TEST_DIR/data/wave-1.csv"
count_data "$TEST_DIR/data/wave-1.csv"
start_worker worker --offset-check-ms 300
wait_applied "$TOPIC" "$DATA_TOTAL" 90
kill -TERM "$WORKER_PID"
wait_exit "$WORKER_PID" 30
declare -A old=()
while read -r p o; do old[$p]=$o; done < <(rcli HGETALL "$KEY_PREFIX:internal:offsets:$TOPIC" | paste -d' ' - -)
log "old topic applied ($DATA_TOTAL rows); deleting and creating it again"

scripts/stack.sh topics --delete --topic "$TOPIC" >/dev/null
for ((i = 0; i < 60; i++)); do
    create_topic "$TOPIC" 6 2>/dev/null && break
    sleep 0.5
done
printf 'region,year,quarter,goal,indicator,completion,submitted_at\nkhovd,2024,3,3,3.1.1,100,2024-10-01T00:00:00Z\n' >"$TEST_DIR/new.csv"
publish "$TEST_DIR/new.csv"

start_worker worker --offset-check-ms 300
deadline=$(($(date +%s) + 60))
until (($(grep -c 'stored_offset_beyond_log_end' "$TEST_DIR/worker.log") >= 6)); do
    (($(date +%s) < deadline)) || fail "the worker did not refuse the 6 partitions: $(grep -c stored_offset_beyond "$TEST_DIR/worker.log")"
    sleep 0.2
done
sleep 1
for p in 0 1 2 3 4 5; do
    line=$(grep "stored_offset_beyond_log_end topic=$TOPIC partition=$p " "$TEST_DIR/worker.log" | head -1)
    [[ $line == *"stored=${old[$p]} end="[01]" action=refused"* && $line == *"agg-worker replay --quarter $Q"* ]] ||
        mismatch "partition $p: no clear refusal: $line"
    expect_eq "partition $p offset untouched" "${old[$p]}" "$(rcli HGET "$KEY_PREFIX:internal:offsets:$TOPIC" "$p")"
done
alive "$WORKER_PID" || fail "the worker exited"

log "recovering with agg-worker replay"
"$AGG_BIN/agg-worker" replay --quarter "$Q" -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
    --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" 2>"$TEST_DIR/replay.err" ||
    fail "replay failed: $(tail -3 "$TEST_DIR/replay.err")"
wait_applied "$TOPIC" 1 30
printf 'region,year,quarter,goal,indicator,completion,submitted_at\norkhon,2024,3,3,3.1.1,50,2024-10-02T00:00:00Z\n' >"$TEST_DIR/after.csv"
publish "$TEST_DIR/after.csv"
wait_applied "$TOPIC" 2 30
expect_eq "partitions accepted again" 6 "$(grep -c 'partition_accepted' "$TEST_DIR/worker.log")"
reference "$TEST_DIR/new.csv" "$TEST_DIR/after.csv" || mismatch "reference.py: not the new topic's rows"
assert_all_passed
