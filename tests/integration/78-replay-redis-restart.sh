#!/usr/bin/env bash
# timeout: 240
# sanitizer: yes
#
# A replay survives Redis going away under it (SPEC 9, faults): Redis is killed with
# SIGKILL while the replay reads the quarter and comes back 2 s later (its append-only
# file keeps the data and the lock). The replay's lock renewals fail meanwhile and are
# retried; its staging write fails, what it had staged is deleted and written again;
# then it swaps. Afterwards --verify finds the live keys equal to a fresh recomputation
# and tests/reference.py finds them exact.
#
# This stops the shared stack's Redis: do not run it beside other users of the stack.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
D=$TEST_DIR
TOPIC=${TOPIC_PREFIX}$Q
gen_data 100000 78 "$Q"
publish "${DATA_FILES[@]}"
start_worker worker --offset-check-ms 200
wait_applied_all 180
log "live: $DATA_TOTAL messages applied"

replay_exec --quarter "$Q" --json --replay-lock-ms 20000 >"$D/replay.json" 2>"$D/replay.err" &
rp=$!
sleep 0.2
service_stop redis --kill
sleep 2
service_start redis
rc=0
wait "$rp" || rc=$?
grep -v '^$' "$D/replay.err" | grep -v redis_connected | tail -4 | cut -c1-200 | sed 's/^/    /'
expect_eq "replay through a Redis restart: exit" 0 "$rc"
grep -q "replay_staging_retry\|replay_lock_not_renewed" "$D/replay.err" ||
    mismatch "the replay did not notice the restart (nothing retried): the test proves nothing"
expect_eq "replay: messages" "$DATA_TOTAL" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$D/replay.json")"
wait_applied "$TOPIC" "$DATA_TOTAL" 60
rc=0
replay --quarter "$Q" --verify >"$D/verify.txt" 2>"$D/verify.err" || rc=$?
head -5 "$D/verify.txt" | sed 's/^/    /'
expect_eq "--verify after the swap: exit" 0 "$rc"
expect_eq "no staging keys left" "" "$(rcli --scan --pattern "$KEY_PREFIX:internal:replay:*" | head -1)"
reference "${DATA_FILES[@]}" || mismatch "reference.py: not exact after a replay through a Redis restart"
assert_all_passed
