#!/usr/bin/env bash
# timeout: 300
# sanitizer: yes
#
# Replays under load and faults (SPEC 9), as the issue's check describes: a closed
# quarter with corrections and late rows, two live workers, a producer publishing more
# late rows all along, and
#  1. replays killed with SIGKILL (every third stopped with SIGTERM) at random moments (from 0 to past a whole replay's
#     duration, so in the read, the staging write, around the swap), alternately on the
#     memory and the batches path; the next replay waits for the dead one's lock;
#  2. a dashboard-like reader polling the total and every region hash in MULTI/EXEC
#     snapshots all along: never a mix (a count of the total that is not the regions'
#     sum), and across a swap that replaces a planted, consistent offset it sees the old
#     values, then the new ones, once;
#  3. at the end (producer done, everything applied): tests/reference.py exact over
#     every row published, replay --verify equal on both paths, no staging key and no
#     replay lock left, and the summary revisions 1..R complete (total + each region),
#     the replayed ones marked so.
# The kill moments come from REPLAY_KILL_SEED (printed; set it to rerun a campaign).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
D=$TEST_DIR
P=$KEY_PREFIX:$Q
TOPIC=${TOPIC_PREFIX}$Q
SEED=${REPLAY_KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
log "kill moments from REPLAY_KILL_SEED=$SEED"
gen_data 12000 77 "$Q"
publish "${DATA_FILES[@]:0:3}"
close_quarter "$Q" || fail "close failed"
start_worker worker-a --amend-quiet-ms 500 --offset-check-ms 200
start_worker worker-b --amend-quiet-ms 500 --offset-check-ms 200

# The late waves in 16 pieces, published one every 0.6 s or so while replays run.
mkdir -p "$D/late"
python3 - "$D/late" "${DATA_FILES[@]:3:2}" <<'PY'
import sys
out, files = sys.argv[1], sys.argv[2:]
header, rows = None, []
for f in files:
    lines = open(f).read().splitlines()
    header = lines[0]
    rows += lines[1:]
n = 16
for i in range(n):
    part = rows[i * len(rows) // n:(i + 1) * len(rows) // n]
    with open("%s/part-%02d.csv" % (out, i), "w") as fh:
        fh.write("\n".join([header] + part) + "\n")
PY
N=$(($(topic_count "$TOPIC")))
wait_applied "$TOPIC" "$N" 120
sleep 1 # the first summaries
( for f in "$D"/late/part-*.csv; do produce "$f" || exit 1; sleep 0.6; done ) &
producer=$!

# replay_when_free ARGS...: a replay, once the lock of a killed one has expired.
replay_when_free() {
    local deadline=$(($(date +%s) + 30)) rc
    while :; do
        rc=0
        replay "$@" 2>"$D/replay.err" || rc=$?
        if ((rc != 0)) && grep -q "a replay of $Q is running" "$D/replay.err" &&
            (($(date +%s) < deadline)); then
            sleep 0.3
            continue
        fi
        return "$rc"
    done
}

regions=$(tail -n +2 "$ROOT/reference/regions.csv" | cut -d, -f1 | paste -sd,)
OLD_ABOVE=100000000
rm -f "$D/stop"
python3 "$ROOT/tests/swap_watch.py" --redis-url "$AGG_REDIS_URL" --quarter-prefix "$P" \
    --regions "$regions" --old-above "$OLD_ABOVE" --stop-file "$D/stop" --max-seconds 200 \
    >"$D/watch.json" &
watcher=$!

# How long a whole replay takes here (a --verify: it reads and stages all, swaps nothing).
t0=$(now_s)
replay_when_free --quarter "$Q" --verify --replay-lock-ms 1500 >/dev/null || true
ms=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%d", (b - a) * 1000 }')
log "a replay takes about $ms ms here"

# 1. Kills at random moments, the two paths in turn.
kills=6
for ((k = 0; k < kills; k++)); do
    path=$([[ $((k % 2)) == 0 ]] && echo auto || echo batches)
    delay=$((RANDOM % (ms * 12 / 10 + 1)))
    # Not replay_when_free: the kill must hit this replay, so wait for the lock first.
    deadline=$(($(date +%s) + 30))
    while [[ -n $(rcli GET "$KEY_PREFIX:internal:lock:replay:$Q") ]]; do
        (($(date +%s) < deadline)) || fail "a killed replay's lock did not expire"
        sleep 0.2
    done
    replay_exec --quarter "$Q" --replay-path "$path" --replay-lock-ms 1500 >/dev/null 2>"$D/kill-$k.err" &
    rp=$!
    sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
    sig=$([[ $((k % 3)) == 2 ]] && echo TERM || echo KILL)
    if kill -"$sig" "$rp" 2>/dev/null; then
        log "replay $k ($path) sent SIG$sig after $delay ms"
    else
        log "replay $k ($path) had finished before $delay ms"
    fi
    rc=0
    wait "$rp" 2>/dev/null || rc=$?
    if [[ $sig == TERM ]]; then
        # 1: stopped before its swap, and says so; 0: it had swapped already; 143: the
        # signal came before the process had set its handlers (a few ms after the exec).
        [[ $rc == 0 || $rc == 1 || $rc == 143 ]] ||
            mismatch "a replay stopped by SIGTERM: exit $rc"
        if ((rc == 1)); then
            grep -q "did not finish\|is not used" "$D/kill-$k.err" ||
                mismatch "a replay stopped by SIGTERM says nothing: $(tail -n 2 "$D/kill-$k.err")"
        fi
    fi
    alive "${WORKER_PIDS[0]}" && alive "${WORKER_PIDS[1]}" || fail "a live worker died"
done

# 2. A consistent offset planted in the total and one region: the swap replaces both.
printf '%s\n' MULTI "HINCRBY $P:total indicators $OLD_ABOVE" \
    "HINCRBY $P:region:arkhangai indicators $OLD_ABOVE" EXEC | rcli >/dev/null
expect_eq "the offset is planted" 1 "$(($(rcli HGET "$P:total" indicators) >= OLD_ABOVE))"
sleep 0.3
replay_when_free --quarter "$Q" --json --replay-lock-ms 1500 >"$D/swap.json" || fail "replay failed: $(tail -3 "$D/replay.err")"
sleep 0.3
touch "$D/stop"
wait "$watcher" || fail "swap_watch failed"
log "reader: $(cat "$D/watch.json")"
python3 - "$D/watch.json" <<'PY' || mismatch "the reader saw a mix, or did not see the swap"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["mixed"] == 0, "mixed snapshots: %d, first %s" % (w["mixed"], w["first_mixed"])
assert w["order"] == ["new", "old", "new"], "order of snapshots %s" % w["order"]
assert w["polls"] >= 100, "only %d polls" % w["polls"]
PY
expect_eq "the offset is gone after the swap" 0 \
    "$(($(rcli HGET "$P:total" indicators) >= OLD_ABOVE))"

# 3. The end state.
wait "$producer" || fail "publishing the late rows failed"
N=$(($(topic_count "$TOPIC")))
wait_applied "$TOPIC" "$N" 120
sleep 1.5 # the amendment of the last late rows (quiet 0.5 s)
reference --closed "$Q" "${DATA_FILES[@]}" ||
    mismatch "reference.py: not exact after the killed replays and the swap"
for path in memory batches; do
    rc=0
    replay_when_free --quarter "$Q" --verify --replay-path "$path" >"$D/final-$path.txt" || rc=$?
    head -5 "$D/final-$path.txt" | sed 's/^/    /'
    expect_eq "final --verify ($path): exit" 0 "$rc"
done
expect_eq "no staging keys left" "" "$(rcli --scan --pattern "$KEY_PREFIX:internal:replay:*" | head -1)"
key_absent "$KEY_PREFIX:internal:lock:replay:$Q"
nregions=$(($(rcli ZCARD "$P:regions")))
summaries "$Q" | python3 -c '
import json, sys
per = int(sys.argv[1]) + 1
revs = {}
for line in sys.stdin:
    s = json.loads(line)
    revs.setdefault(s["revision"], []).append(s)
top = max(revs)
assert sorted(revs) == list(range(1, top + 1)), "revisions %s" % sorted(revs)
for r, ss in revs.items():
    assert len(ss) == per, "revision %d has %d summaries, not %d" % (r, len(ss), per)
    flags = set(bool(s["replayed"]) for s in ss)
    assert len(flags) == 1, "revision %d: mixed replayed flags" % r
replayed = [r for r, ss in revs.items() if ss[0]["replayed"]]
assert replayed, "no replayed revision"
print("revisions 1..%d, replayed %s" % (top, replayed))
' "$nregions" || mismatch "the summary revisions are not complete"
assert_all_passed
