#!/usr/bin/env bash
# timeout: 240
#
# A Redis that comes back without its last writes (AOF everysec loses up to a second)
# must not lose them for good on a quiet partition (hardening, item 1). The worker
# applies every row and then the close markers of one quarter on all 6 partitions; no
# message follows. Redis is then killed (SIGKILL) and restarted from a copy of its
# append-only files taken before the markers were applied: the stored offsets and the
# partitions' closed_ms are rolled back, and nothing new arrives to fence a batch. The
# worker must notice on its own (re-reading the stored offsets after reconnecting, and
# every --offset-check-ms) and apply the markers again: every partition's offset and
# closed_ms exact, the aggregates equal to the reference.
#
# This restarts the shared stack's Redis from an older copy of its data: do not run it
# beside other users of the stack.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
gen_data 3000 52 "$Q"
count_data "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv"
publish "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv"
start_worker worker --offset-check-ms 500
wait_applied "$TOPIC" "$DATA_TOTAL" 90
log "all $DATA_TOTAL rows applied"

# Per-partition message counts before the markers, from the stored offsets.
declare -A before=()
while read -r part off; do before[$part]=$off; done < <(rcli HGETALL "$KEY_PREFIX:internal:offsets:$TOPIC" | paste -d' ' - -)
((${#before[@]} == 6)) || fail "expected offsets of 6 partitions, got ${#before[@]}"

# Redis writes its append-only file before it answers, so a copy taken now holds every
# write so far and none of the markers'.
dir=$(rcli CONFIG GET dir | sed -n 2p)
aofdir=$(rcli CONFIG GET appenddirname | sed -n 2p)
[[ -d $dir/$aofdir ]] || fail "no append-only directory at $dir/$aofdir"
rm -rf "$TEST_DIR/aof-before"
cp -a "$dir/$aofdir" "$TEST_DIR/aof-before"

close_quarter "$Q" || fail "agg-produce close failed"
wait_applied "$TOPIC" $((DATA_TOTAL + 6)) 60
state=$KEY_PREFIX:$Q:state
declare -A closed=()
for p in 0 1 2 3 4 5; do
    closed[$p]=$(rcli HGET "$state" "partition:$p:closed_ms")
    [[ -n ${closed[$p]} ]] || fail "partition $p has no closed_ms after its marker"
done
log "markers applied on all 6 partitions; rolling Redis back to before them"

service_stop redis --kill
rm -rf "${dir:?}/$aofdir"
cp -a "$TEST_DIR/aof-before" "$dir/$aofdir"
service_start redis
log "Redis restarted from the older copy"

# Nothing is published any more: only the worker's own check can bring the markers back.
wait_applied "$TOPIC" $((DATA_TOTAL + 6)) 60
log "offsets back at $((DATA_TOTAL + 6))"
for p in 0 1 2 3 4 5; do
    expect_eq "partition $p closed_ms" "$(rcli HGET "$state" "partition:$p:closed_ms")" "${closed[$p]}"
    expect_eq "partition $p offset" "$(rcli HGET "$KEY_PREFIX:internal:offsets:$TOPIC" "$p")" $((before[$p] + 1))
done
moved=$(grep -c 'stored_offset_moved' "$TEST_DIR/worker.log" || true)
expect_eq "partitions the worker sought back" "$moved" 6
alive "$WORKER_PID" || fail "the worker exited"
reference --closed "$Q" "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv" || mismatch "reference.py found differences after the rollback"
assert_all_passed
