#!/usr/bin/env bash
# timeout: 420
#
# Quarter close with two workers, one killed with SIGKILL around the close (SPEC 8):
# each round closes a fresh quarter (30 regions on 6 partitions) and kills one worker
# at one of four moments -- right after the markers are written (before any is
# applied), after a first partition applied its marker (between markers), right after
# the close was decided (quarter_closed, before or while the outbox drains), or at a
# random point up to 1.5 s after the close -- and restarts it. Every round must end with
# exactly one summary set of revision 1 on the topic: 31 distinct ids and 31 messages
# (no duplicate, nothing missing), its total equal to the quarter's total hash, and the
# aggregates exact (tests/reference.py). CLOSE_KILL_ROUNDS (4) sets the rounds.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

ROUNDS=${CLOSE_KILL_ROUNDS:-4}
QUARTERS=(2023-Q1 2023-Q2 2023-Q3 2023-Q4 2022-Q1 2022-Q2 2022-Q3 2022-Q4)
MOMENTS=(markers-written between-markers decided random)
((ROUNDS <= ${#QUARTERS[@]})) || fail "at most ${#QUARTERS[@]} rounds"
WORKER_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 --offset-check-ms 300)

# Every quarter's rows before the workers start: a topic created later would only be
# seen at the next metadata refresh.
all_files=() closed=() total=0
declare -A rows_of=()
for ((round = 0; round < ROUNDS; round++)); do
    Q=${QUARTERS[$round]}
    gen_data 3000 $((67 + round)) "$Q" "data-$Q"
    publish "${DATA_FILES[@]}"
    all_files+=("${DATA_FILES[@]}")
    rows_of[$Q]=$DATA_TOTAL
done
start_worker w1 "${WORKER_OPTS[@]}"
pids=("$WORKER_PID")
start_worker w2 "${WORKER_OPTS[@]}"
pids+=("$WORKER_PID")
names=(w1 w2)

# wait_log PATTERN SECONDS: prints the index (0/1) of the first worker whose log (since
# its last start) has a line matching PATTERN.
wait_log() {
    local deadline=$(($(date +%s) + $2)) k
    while (($(date +%s) < deadline)); do
        for k in 0 1; do
            if sed -n '/=== start/h; //!H; ${x;p}' "$TEST_DIR/${names[$k]}.log" | grep -q "$1"; then
                echo "$k"
                return 0
            fi
        done
        sleep 0.02
    done
    return 1
}

for ((round = 0; round < ROUNDS; round++)); do
    Q=${QUARTERS[$round]}
    moment=${MOMENTS[$((round % ${#MOMENTS[@]}))]}
    wait_applied "${TOPIC_PREFIX}$Q" "${rows_of[$Q]}" 90
    close_quarter "$Q" || fail "close of $Q failed"
    closed+=(--closed "$Q")
    case $moment in
    markers-written) victim=$((RANDOM % 2)) ;;
    between-markers) victim=$(wait_log "partition_closed .*quarter=$Q" 30) || fail "no marker applied" ;;
    decided) victim=$(wait_log "quarter_closed quarter=$Q" 30) || fail "$Q never closed" ;;
    random)
        victim=$((RANDOM % 2))
        sleep "$(awk -v m=$((RANDOM % 1500)) 'BEGIN { printf "%.3f", m / 1000 }')"
        ;;
    esac
    kill -KILL "${pids[$victim]}"
    wait "${pids[$victim]}" 2>/dev/null || true
    log "round $((round + 1)): $Q, ${names[$victim]} killed at moment '$moment'"
    start_worker "${names[$victim]}" "${WORKER_OPTS[@]}"
    pids[$victim]=$WORKER_PID

    wait_summaries "$Q" 31 90
    sleep 1 # a duplicate, if any, would come with the next drain
    expect_eq "$Q: distinct summaries" 31 "$(summaries "$Q" | wc -l)"
    expect_eq "$Q: summary messages (no duplicates)" 31 "$(summary_messages "$Q")"
    P=$KEY_PREFIX:$Q
    expect_eq "$Q: status" closed "$(rcli HGET "$P:state" status)"
    expect_eq "$Q: summary_revision" 1 "$(rcli HGET "$P:state" summary_revision)"
    # The total summary equals the total hash: no late rows, so nothing moved since.
    summaries "$Q" >"$TEST_DIR/$Q.json"
    rcli HGETALL "$P:total" | paste -d' ' - - | grep -v '^updated_ms ' | LC_ALL=C sort >"$TEST_DIR/$Q.hash"
    python3 - "$TEST_DIR/$Q.json" <<'PY' | LC_ALL=C sort >"$TEST_DIR/$Q.summary"
import json, sys
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s["scope"] == "total":
        for k, v in s["totals"].items():
            print(k, v)
PY
    diff "$TEST_DIR/$Q.hash" "$TEST_DIR/$Q.summary" >/dev/null ||
        mismatch "$Q: the total summary differs from $P:total: $(diff "$TEST_DIR/$Q.hash" "$TEST_DIR/$Q.summary" | head -5 | xargs)"
done

# The count fields of amounts (#...) live in counts keys, not in the total: the diff
# above compares the public fields only.
reference "${closed[@]}" "${all_files[@]}" || mismatch "reference.py found differences"
assert_all_passed
