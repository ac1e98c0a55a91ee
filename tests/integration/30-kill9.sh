#!/usr/bin/env bash
# timeout: 600
#
# Effectively once under crashes (SPEC 7): 500,000 generated rows over two quarter
# topics (30 regions, 13 goals, ~20 % corrections with higher revisions, some moving to
# another goal or unit, resends of the same revision, stale revisions), published with
# agg-produce. One worker applies them and is killed with SIGKILL at >= 5 random moments
# while it is applying (each 50-500 ms after it was seen to make progress again: it
# applies ~150,000 records/s here, so longer waits would outlast the data), restarted
# at once each time. Should it still finish before the fifth kill (a faster machine),
# another 150,000 rows for a further quarter are published and the kills go on. At
# the end tests/reference.py must find no difference at all.
#
# KILL_RECORDS (500000, at least 200000) and KILLS (5) change the size of the run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

ROWS=${KILL_RECORDS:-500000}
KILLS=${KILLS:-5}
# A killed member is only replaced once the broker notices it is gone: keep that short.
WORKER_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)
# When the worker gets through everything before the last kill, more rows go to the same
# quarter topics: a new topic would only be seen at the worker's next metadata refresh
# (up to 10 s), after which it is applied faster than a kill can land mid-run.
TOPUPS=3

log "generating $ROWS rows"
gen_data "$ROWS" 30 2024-Q3,2024-Q4
((DATA_TOTAL >= ROWS)) || fail "generator wrote only $DATA_TOTAL rows"
for t in "${DATA_TOPICS[@]}"; do log "  $t: ${DATA_COUNT[$t]} messages"; done
publish "${DATA_FILES[@]}"
ALL_FILES=("${DATA_FILES[@]}")

t_start=$(now_s)
start_worker worker "${WORKER_OPTS[@]}"
log "worker started (pid $WORKER_PID)"
kills=0 mid_run=0 extra=0 moments=()
while ((mid_run < KILLS)); do
    before=$(applied_all)
    wait_progress "${before:-0}" 90 || fail "no progress within 90 s after (re)start (applied ${before:-?})"
    if (($(applied_all) >= DATA_TOTAL)); then
        ((extra < TOPUPS)) || fail "all applied after $mid_run mid-run kills"
        extra=$((extra + 1))
        log "all applied after $mid_run mid-run kills; publishing 150000 more rows (top-up $extra)"
        gen_data 150000 $((30 + extra)) 2024-Q3,2024-Q4 "extra-$extra"
        ALL_FILES+=("${DATA_FILES[@]}")
        count_data "${ALL_FILES[@]}" # before publishing: the running worker starts at once
        publish "${DATA_FILES[@]}"
    fi
    ms=$((50 + RANDOM % 451))
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -KILL "$WORKER_PID"
    wait "$WORKER_PID" 2>/dev/null || true
    kills=$((kills + 1))
    at=$(applied_all)
    if ((at < DATA_TOTAL)); then mid_run=$((mid_run + 1)); fi
    moment="kill #$kills at +$(awk -v a="$t_start" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }')s, ${ms} ms after progress resumed, applied $at / $DATA_TOTAL"
    moments+=("$moment")
    log "$moment"
    start_worker worker "${WORKER_OPTS[@]}"
done

wait_applied_all 400
t_end=$(now_s)
wall=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
rate=$(awk -v n="$DATA_TOTAL" -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%d", n / (b - a) }')
log "all $DATA_TOTAL messages applied in $wall s from first start, $kills kills ($mid_run mid-run), $extra top-ups: $rate records/s including restarts and rebalances"
for m in "${moments[@]}"; do echo "    $m"; done
alive "$WORKER_PID" || fail "the last worker exited"

log "comparing with tests/reference.py"
reference "${ALL_FILES[@]}" || mismatch "reference.py found differences after $kills kill -9"
assert_all_passed
