#!/usr/bin/env bash
# timeout: 90
#
# A batch that would take a scope's amount beyond int64 (hardening, item 4) writes
# nothing: the check is in the script's read-only pass, before the first write (Redis
# does not roll a failed script back, so a failing HINCRBY after the record states were
# written would corrupt the totals for good). The worker stops with exit 1 and says
# which key and field; the record state, the offsets and every hash stay as they were.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
P=$KEY_PREFIX:$Q
# A total already at the edge of int64 (as if billions of records had been summed).
rcli HSET "$P:total" target_x100:count 9223372036854775000 indicators 1 >/dev/null
printf 'region,year,quarter,goal,indicator,target,submitted_at\nkhovd,2024,3,3,3.1.1,10000000000000,2024-10-01T00:00:00Z\n' >"$TEST_DIR/big.csv"
publish "$TEST_DIR/big.csv"
start_worker worker
wait_exit "$WORKER_PID" 60
expect_eq "worker exit code" 1 "$EXIT_RC"
grep -q "scope_overflow topic=$TOPIC partition=[0-9] key=$P:total field=target_x100:count" "$TEST_DIR/worker.log" ||
    mismatch "no scope_overflow naming $P:total target_x100:count"
key_absent "$KEY_PREFIX:internal:rec:$Q:khovd"
key_absent "$P:region:khovd"
key_absent "$KEY_PREFIX:internal:offsets:$TOPIC"
hash_equals "$P:total" "target_x100:count=9223372036854775000 indicators=1"
assert_all_passed
