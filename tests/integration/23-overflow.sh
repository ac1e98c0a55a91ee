#!/usr/bin/env bash
# timeout: 90
#
# A record that would take a scope's amount beyond int64 (hardening, item 4) goes to the
# DLQ with a reason, and nothing of it is written. The check is in the script's
# read-only pass, before the first write (Redis does not roll a failed script back, so
# a failing HINCRBY after the record states were written would corrupt the totals for
# good); the script refuses the batch (OVERFLOW, key, field), the worker fetches the
# records that feed that field again by offset, sends them to the DLQ and applies the
# rest of the batch. The worker goes on: a normal row after it is applied.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
P=$KEY_PREFIX:$Q
create_topic "$TOPIC" 1
# A total already at the edge of int64 (as if billions of records had been summed).
rcli HSET "$P:total" target_x100:count 9223372036854775000 indicators 1 >/dev/null
cat >"$TEST_DIR/rows.csv" <<'CSV'
region,year,quarter,goal,indicator,target,completion,submitted_at
khovd,2024,3,3,3.1.1,10000000000000,,2024-10-01T00:00:00Z
orkhon,2024,3,3,3.1.1,,50,2024-10-01T00:00:00Z
CSV
publish "$TEST_DIR/rows.csv"
start_worker worker
wait_applied "$TOPIC" 2 60
deadline=$(($(date +%s) + 30))
while (($(topic_count "$DLQ_TOPIC") < 1)) && (($(date +%s) < deadline)); do sleep 0.3; done
kc -C -t "$DLQ_TOPIC" -o beginning -e -q -f '%k %h\n' >"$TEST_DIR/dlq.txt" 2>/dev/null || true
log "DLQ: $(cat "$TEST_DIR/dlq.txt")"
expect_eq "DLQ entries" 1 "$(wc -l <"$TEST_DIR/dlq.txt")"
grep -q "^khovd .*source_offset=0,reason=amount out of range: target_x100:count of $P:total would leave int64" "$TEST_DIR/dlq.txt" ||
    mismatch "no DLQ entry for khovd with the overflow reason"
grep -q "scope_overflow topic=$TOPIC partition=0 key=$P:total field=target_x100:count records=1 action=dlq" "$TEST_DIR/worker.log" ||
    mismatch "no scope_overflow line naming the key, field and action"
key_absent "$KEY_PREFIX:internal:rec:$Q:khovd"
key_absent "$P:region:khovd"
# The total: the edge value untouched, orkhon's row added.
hash_equals "$P:total" "target_x100:count=9223372036854775000 indicators=2 assessed=1
    completion_sum_x100=5000 completion_avg=50.00 met=0 partial=1 unmet=0"
alive "$WORKER_PID" || fail "the worker stopped"
assert_all_passed
