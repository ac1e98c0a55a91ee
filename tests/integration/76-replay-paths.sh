#!/usr/bin/env bash
# timeout: 240
# sanitizer: yes
#
# The replay's two ways of recomputing a quarter (SPEC 9) agree with the live path and
# with each other, on a quarter with corrections, goal and unit moves, resends, stale
# revisions, an undecodable message, a close, and late rows past the markers:
#  1. --replay-path memory --verify: exit 0, every key equal, its close point equal to
#     revision 1 field for field, the reject counted;
#  2. --replay-path batches --verify: the same;
#  3. a memory bound the quarter does not fit: auto takes the batches path and says why
#     (still equal); --replay-path memory refuses with the reason, nothing swapped;
#  4. a swap by the memory path: tests/reference.py exact, revision 3 replayed;
#  5. a quarter whose marker reached one partition only: that partition is held at its
#     marker (the row after it waits), the quarter stays open; both paths equal the
#     live keys and stop at the marker too; a pre-v2 marker (no partition count) counts
#     the topic's partitions on both.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
D=$TEST_DIR
P=$KEY_PREFIX:$Q
TOPIC=${TOPIC_PREFIX}$Q
gen_data 10000 76 "$Q"
publish "${DATA_FILES[@]:0:3}"
printf 'not a protobuf message' | kc -P -t "$TOPIC" -k arkhangai -p 0 || fail "kcat failed"
close_quarter "$Q" || fail "close failed"
publish "${DATA_FILES[@]:3:2}" # late rows: past every marker
N=$(topic_count "$TOPIC")
start_worker worker --amend-quiet-ms 500 --offset-check-ms 200
wait_applied "$TOPIC" "$N" 120
sleep 1.5 # the amendment of the late rows (quiet 0.5 s)
expect_eq "live: status" closed "$(rcli HGET "$P:state" status)"
expect_eq "live: summary revision" 2 "$(rcli HGET "$P:state" summary_revision)"

jfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# 1 and 2: each path, --verify.
for path in memory batches; do
    rc=0
    replay --quarter "$Q" --verify --json --replay-path "$path" >"$D/$path.json" 2>"$D/$path.err" || rc=$?
    { grep -v '^{' "$D/$path.json" || true; } | head -5 | sed 's/^/    /'
    tail -1 "$D/$path.err" | sed 's/^/    /'
    grep '^{' "$D/$path.json" >"$D/$path.j" || true
    expect_eq "$path: exit" 0 "$rc"
    expect_eq "$path: path taken" "$path" "$(jfield "$D/$path.j" path)"
    expect_eq "$path: differences" 0 "$(jfield "$D/$path.j" differences)"
    expect_eq "$path: messages read" "$N" "$(jfield "$D/$path.j" messages)"
    expect_eq "$path: rejects" 1 "$(jfield "$D/$path.j" rejects)"
    expect_eq "$path: close point" "identical to revision 1" "$(jfield "$D/$path.j" close_point)"
done
expect_eq "--verify swaps nothing: summary revision" 2 "$(rcli HGET "$P:state" summary_revision)"

# 3. A quarter larger than the memory path may use.
rc=0
replay --quarter "$Q" --verify --json --replay-memory-mb 1 >"$D/auto.json" 2>"$D/auto.err" || rc=$?
grep '^{' "$D/auto.json" >"$D/auto.j" || true
expect_eq "auto under 1 MiB: exit" 0 "$rc"
expect_eq "auto under 1 MiB: path taken" batches "$(jfield "$D/auto.j" path)"
jfield "$D/auto.j" fallback | grep -q -- "--replay-memory-mb=1" ||
    mismatch "auto under 1 MiB: no reason given: $(jfield "$D/auto.j" fallback)"
grep -q "replay_path_batches" "$D/auto.err" || mismatch "auto under 1 MiB: no warning logged"
rc=0
replay --quarter "$Q" --replay-path memory --replay-memory-mb 1 >/dev/null 2>"$D/memory1.err" || rc=$?
expect_eq "memory path under 1 MiB: exit" 1 "$rc"
grep -q "needs more than --replay-memory-mb=1 in memory.*run it again with --replay-path auto or batches" "$D/memory1.err" ||
    mismatch "memory path under 1 MiB: message: $(cat "$D/memory1.err")"
expect_eq "a refused replay swaps nothing: summary revision" 2 "$(rcli HGET "$P:state" summary_revision)"
expect_eq "a refused replay leaves no staging keys" "" "$(rcli --scan --pattern "$KEY_PREFIX:internal:replay:*" | head -1)"

# 4. The memory path swaps in.
rc=0
replay --quarter "$Q" --json >"$D/swap.json" 2>"$D/swap.err" || rc=$?
expect_eq "swap: exit" 0 "$rc"
expect_eq "swap: path" memory "$(jfield "$D/swap.json" path)"
expect_eq "swap: revision" 3 "$(jfield "$D/swap.json" summary_revision)"
wait_summaries "$Q" 1 30
reference --closed "$Q" "${DATA_FILES[@]}" || mismatch "reference.py: not exact after the swap"
rc=0
replay --quarter "$Q" --verify --replay-path batches >/dev/null 2>&1 || rc=$?
expect_eq "batches path after the memory path's swap: exit" 0 "$rc"

# 5. One partition past its marker, the others without one.
Q4=2024-Q4
T4=${TOPIC_PREFIX}$Q4
create_topic "$T4" 6
n4=0
# put PARTITION KEY agg-encode-args...: one message (kcat -P splits stdin at newlines).
put() {
    local p=$1 k=$2
    shift 2
    n4=$((n4 + 1))
    "$AGG_BIN/agg-encode" -o "$D/q4-$n4.bin" "$@" || fail "agg-encode $*"
    kc -P -t "$T4" -p "$p" -k "$k" "$D/q4-$n4.bin" || fail "kcat failed"
}
put 0 arkhangai region=arkhangai year=2024 quarter=4 goal=3 indicator=3.1.1 completion=5000 revision=1
put 0 arkhangai region=arkhangai year=2024 quarter=4 goal=3 indicator=3.1.2 completion=7000 revision=1
put 0 close --close 2024 4 requested_ms=1730000000000 partitions=6 by=test
put 0 arkhangai region=arkhangai year=2024 quarter=4 goal=3 indicator=3.1.1 completion=9000 revision=2
put 1 bulgan region=bulgan year=2024 quarter=4 goal=3 indicator=3.1.1 completion=4000 revision=1
put 2 dornod region=dornod year=2024 quarter=4 goal=6.1 indicator=6.1.1 completion=10000 revision=1
wait_applied "$T4" $((3 + 2)) 60 # partition 0 stops after its marker
sleep 1
expect_eq "Q4 live: partition 0 held at its marker" 3 "$(rcli HGET "$KEY_PREFIX:internal:offsets:$T4" 0)"
expect_eq "Q4 live: status" open "$(rcli HGET "$KEY_PREFIX:$Q4:state" status)"
for path in memory batches; do
    rc=0
    replay --quarter "$Q4" --verify --json --replay-path "$path" >"$D/q4-$path.json" 2>"$D/q4-$path.err" || rc=$?
    { grep -v '^{' "$D/q4-$path.json" || true; } | head -5 | sed 's/^/    /'
    expect_eq "Q4 $path: exit" 0 "$rc"
    expect_eq "Q4 $path: path, messages, held, close point" "$path 5 1 not closed" \
        "$(grep '^{' "$D/q4-$path.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["path"], d["messages"], d["held_at_close_marker"], d["close_point"])')"
done
# A pre-v2 marker (no count) on the other five partitions: the quarter closes, live and
# replayed alike; the held row becomes a late row.
for p in 1 2 3 4 5; do
    put "$p" close --close 2024 4 requested_ms=1730000000000 by=test
done
wait_applied "$T4" $((4 + 2 + 5)) 60
expect_eq "Q4 live after the pre-v2 markers: status" closed "$(rcli HGET "$KEY_PREFIX:$Q4:state" status)"
for path in memory batches; do
    rc=0
    replay --quarter "$Q4" --verify --json --replay-path "$path" >"$D/q4c-$path.json" 2>"$D/q4c-$path.err" || rc=$?
    { grep -v '^{' "$D/q4c-$path.json" || true; } | head -5 | sed 's/^/    /'
    expect_eq "Q4 closed, $path: exit" 0 "$rc"
    expect_eq "Q4 closed, $path: path, messages, close point" "$path 11 identical to revision 1" \
        "$(grep '^{' "$D/q4c-$path.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["path"], d["messages"], d["close_point"])')"
done
assert_all_passed
