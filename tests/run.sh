#!/usr/bin/env bash
# Test runner.
#
#   tests/run.sh unit        every unit-test program $AGG_TEST_BUILD/tests/test_*
#   tests/run.sh all         unit + every tests/integration/NN-*.sh
#   tests/run.sh sanitizer   unit + the integration tests marked "# sanitizer: yes"
#   tests/run.sh all 10 60   only the integration tests numbered 10 and 60 (+ unit)
#
# Environment: AGG_BIN (bin) holds agg-produce, agg-worker, agg-encode; AGG_TEST_BUILD
# (build) holds tests/test_*; AGG_TEST_LOGS ($AGG_TEST_BUILD/test-logs) gets one log per
# test. Integration tests use the local stack of build/stack.env (started with
# scripts/stack.sh up when that file is missing).
#
# A unit program ends with "N passed, N failed"; an integration script is one test
# (exit 0 = pass) with a hard time limit: "# timeout: SECONDS" in the script, else 120.
# The last line is "N passed, N failed" over unit cases and integration scripts; the
# exit status is 1 when anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

MODE=${1:-all}
shift || true
ONLY=("$@")
export AGG_BIN=${AGG_BIN:-bin}
export AGG_TEST_BUILD=${AGG_TEST_BUILD:-build}
export AGG_TEST_LOGS=${AGG_TEST_LOGS:-$AGG_TEST_BUILD/test-logs}
DEFAULT_TIMEOUT=120

case $MODE in
    unit | all | sanitizer) ;;
    *)
        echo "usage: tests/run.sh unit|all|sanitizer [NN...]" >&2
        exit 2
        ;;
esac

mkdir -p "$AGG_TEST_LOGS"
passed=0
failed=0

# --- unit tests --------------------------------------------------------------------------

run_unit() {
    local t name logf rc line p f found=0
    for t in "$AGG_TEST_BUILD"/tests/test_*; do
        [[ -f $t && -x $t && $t != *.d && $t != *.o ]] || continue
        found=1
        name=$(basename "$t")
        logf=$AGG_TEST_LOGS/unit-$name.log
        rc=0
        timeout -k 5 300 "$t" >"$logf" 2>&1 || rc=$?
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logf" | tail -n 1)
        if [[ -z $line ]]; then
            # Crashed or hung before its summary: one failure for the program.
            echo "FAIL unit $name (exit $rc, no summary line)"
            tail -n 30 "$logf" | sed 's/^/    /'
            failed=$((failed + 1))
            continue
        fi
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed*}
        if ((rc != 0 && f == 0)); then
            f=1 # e.g. a sanitizer report after the summary
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        if ((f == 0)); then
            echo "ok unit $name: $line"
        else
            echo "FAIL unit $name: $line (exit $rc)"
            grep -iE 'fail|error|runtime error' "$logf" | head -n 30 | sed 's/^/    /'
        fi
    done
    ((found)) || echo "note: no unit-test programs in $AGG_TEST_BUILD/tests/ (run make)"
}

# --- integration tests -------------------------------------------------------------------

ensure_stack() {
    if [[ ! -f build/stack.env ]] || ! scripts/stack.sh status >/dev/null 2>&1; then
        scripts/stack.sh up || {
            echo "FAIL: the local stack (scripts/stack.sh up) does not start" >&2
            return 1
        }
    fi
}

selected() {
    local f=$1 n
    n=$(basename "$f")
    n=${n%%-*}
    if [[ $MODE == sanitizer ]] && ! grep -qx '# sanitizer: yes' "$f"; then
        return 1
    fi
    ((${#ONLY[@]} == 0)) && return 0
    printf '%s\n' "${ONLY[@]}" | grep -qx "$n"
}

run_integration() {
    local f name logf limit rc t0 t1 secs
    local scripts=()
    for f in tests/integration/[0-9][0-9]-*.sh; do
        [[ -f $f ]] && selected "$f" && scripts+=("$f")
    done
    ((${#scripts[@]})) || return 0
    if ! ensure_stack; then
        failed=$((failed + ${#scripts[@]}))
        return 0
    fi
    for f in "${scripts[@]}"; do
        name=$(basename "$f" .sh)
        logf=$AGG_TEST_LOGS/$name.log
        limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$f" | head -n 1)
        limit=${limit:-$DEFAULT_TIMEOUT}
        t0=$(date +%s.%N)
        rc=0
        timeout -k 20 "$limit" bash "$f" >"$logf" 2>&1 || rc=$?
        t1=$(date +%s.%N)
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
        if ((rc == 0)); then
            echo "ok $name ($secs s)"
            passed=$((passed + 1))
        else
            if ((rc == 124 || rc == 137)); then
                echo "FAIL $name (time limit of $limit s, $secs s)"
            else
                echo "FAIL $name (exit $rc, $secs s)"
            fi
            tail -n 30 "$logf" | sed 's/^/    /'
            echo "    (log: $logf)"
            failed=$((failed + 1))
        fi
    done
}

run_unit
if [[ $MODE != unit ]]; then
    run_integration
fi
echo "$passed passed, $failed failed"
((failed == 0))
