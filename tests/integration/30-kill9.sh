#!/usr/bin/env bash
# timeout: 600
#
# Effectively once under crashes (SPEC 7): 500,000 generated rows over two quarter
# topics (30 regions, 13 goals, ~20 % corrections with higher revisions, some moving to
# another goal or unit, resends of the same revision, stale revisions), published with
# agg-produce. One worker applies them and is killed with SIGKILL 5 times while it is
# applying, restarted at once each time. Each kill is triggered by progress, not by
# time: kill i waits until the stored offsets pass a random count inside the i-th of
# KILLS equal windows over the first 80 % of the data, so every kill lands mid-run by
# construction however fast the machine (a time-based schedule let a fast worker drain
# the data between kills). At the end tests/reference.py must find no difference.
#
# KILL_RECORDS (500000, at least 200000) and KILLS (5) change the size of the run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

ROWS=${KILL_RECORDS:-500000}
KILLS=${KILLS:-5}
# A killed member is only replaced once the broker notices it is gone: keep that short.
WORKER_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000)

log "generating $ROWS rows"
gen_data "$ROWS" 30 2024-Q3,2024-Q4
((DATA_TOTAL >= ROWS)) || fail "generator wrote only $DATA_TOTAL rows"
for t in "${DATA_TOPICS[@]}"; do log "  $t: ${DATA_COUNT[$t]} messages"; done
publish "${DATA_FILES[@]}"

# kill_target I: a random applied count inside window I (1-based) of KILLS equal windows
# over the first 80 % of the data, and above what is applied now.
kill_target() {
    local i=$1 now=$2 lo hi
    lo=$((DATA_TOTAL * 8 * (i - 1) / (10 * KILLS)))
    hi=$((DATA_TOTAL * 8 * i / (10 * KILLS)))
    ((lo > now)) || lo=$((now + 1))
    ((hi > lo)) || hi=$((lo + 1))
    echo $((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
}

t_start=$(now_s)
start_worker worker "${WORKER_OPTS[@]}"
log "worker started (pid $WORKER_PID)"
kills=0 moments=()
while ((kills < KILLS)); do
    now=$(applied_all)
    target=$(kill_target $((kills + 1)) "${now:-0}")
    ((target < DATA_TOTAL)) || fail "kill $((kills + 1)): nothing left to kill into (applied ${now:-?} of $DATA_TOTAL)"
    deadline=$(($(date +%s) + 120))
    while :; do
        at=$(applied_all)
        [[ -n $at ]] && ((at >= target)) && break
        alive "$WORKER_PID" || fail "the worker exited before kill $((kills + 1)) (applied ${at:-?})"
        (($(date +%s) < deadline)) || fail "applied count did not reach $target within 120 s (at ${at:-?})"
        sleep 0.01
    done
    kill -KILL "$WORKER_PID"
    wait "$WORKER_PID" 2>/dev/null || true
    kills=$((kills + 1))
    at=$(applied_all)
    if [[ -n $at ]] && ((at >= DATA_TOTAL)); then
        fail "kill #$kills landed after everything was applied ($at / $DATA_TOTAL)"
    fi
    moment="kill #$kills at +$(awk -v a="$t_start" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }')s, target $target, applied $at / $DATA_TOTAL"
    moments+=("$moment")
    log "$moment"
    start_worker worker "${WORKER_OPTS[@]}"
done

wait_applied_all 400
t_end=$(now_s)
wall=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
rate=$(awk -v n="$DATA_TOTAL" -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%d", n / (b - a) }')
log "all $DATA_TOTAL messages applied in $wall s from first start, $kills kills, all mid-run: $rate records/s including restarts and rebalances"
for m in "${moments[@]}"; do echo "    $m"; done
alive "$WORKER_PID" || fail "the last worker exited"

log "comparing with tests/reference.py"
reference "${DATA_FILES[@]}" || mismatch "reference.py found differences after $kills kill -9"
assert_all_passed
