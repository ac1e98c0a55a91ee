#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (docs/FUZZING.md).
#
#   tests/fuzz/run.sh SECONDS [TARGET...]   each target (default: all) for SECONDS
#   tests/fuzz/run.sh --smoke [TARGET...]   each for AGG_FUZZ_SMOKE_SECONDS (7), as CI
#                                           does, with a fixed seed (-seed=1)
#
# TARGET is the part after fuzz_ (csv, envelope, ...). One target at a time, one
# process each (-jobs is not used): the machines have two cores shared with others.
# Each run starts from the checked-in seeds (tests/fuzz/corpus/TARGET, read only) plus
# the inputs earlier runs found (build/fuzz/corpus/TARGET, where new ones go), and
# prints its executions. A crash leaves its input in build/fuzz/artifacts/TARGET/ and
# fails the run; every crash becomes a unit test (tests/unit/) before it is fixed.
# Totals of every run are appended to build/fuzz/runs.tsv (date, target, seconds,
# executions, result) for the record in docs/FUZZING.md.
#
# Environment: AGG_FUZZ_BUILD (build/fuzz) holds fuzzers/fuzz_*; AGG_FUZZ_SMOKE_SECONDS.
# Exit status: 0 when no target crashed, 1 when one did, 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2

FB=${AGG_FUZZ_BUILD:-build/fuzz}
usage() {
    echo "usage: tests/fuzz/run.sh SECONDS|--smoke [TARGET...]" >&2
    exit 2
}
(($# >= 1)) || usage
seed=()
if [[ $1 == --smoke ]]; then
    secs=${AGG_FUZZ_SMOKE_SECONDS:-7}
    # The same mutations on every CI run, as far as a time limit allows: a finding in
    # CI is then one that a second run sees too.
    seed=(-seed=1)
else
    secs=$1
fi
[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
shift

targets=("$@")
if ((${#targets[@]} == 0)); then
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        targets+=("${t%.c}")
    done
fi

# Per-target options. The CSV reader's row limit (AGG_CSV_ROW_MAX, 64 KiB) is only
# reached by inputs longer than it; elsewhere libFuzzer's default (4096 bytes, or the
# largest seed) is plenty and keeps mutations fast.
# Dictionaries (tests/fuzz/*.dict) give the mutator the words of a format: column
# names, JSON keys.
opts_for() {
    case $1 in
        csv) echo "-max_len=70000 -dict=tests/fuzz/csv.dict" ;;
        rows) echo "-max_len=8192 -dict=tests/fuzz/csv.dict" ;;
        summary_outbox) echo "-dict=tests/fuzz/summary_outbox.dict" ;;
    esac
}

mkdir -p "$FB/logs"
crashed=0
total_execs=0
for t in "${targets[@]}"; do
    bin=$FB/fuzzers/fuzz_$t
    seeds=tests/fuzz/corpus/$t
    work=$FB/corpus/$t
    art=$FB/artifacts/$t
    logf=$FB/logs/$t.log
    if [[ ! -x $bin ]]; then
        echo "FAIL fuzz $t: $bin is missing (make fuzz-build)"
        crashed=1
        continue
    fi
    [[ -d $seeds ]] || { echo "FAIL fuzz $t: no seed corpus $seeds"; crashed=1; continue; }
    mkdir -p "$work" "$art"
    # shellcheck disable=SC2046  # opts_for prints separate words on purpose
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        "${seed[@]}" -artifact_prefix="$art/" $(opts_for "$t") "$work" "$seeds" \
        >"$logf" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n 1)
    execs=${execs:-0}
    total_execs=$((total_execs + execs))
    ncorpus=$(find "$work" -type f | wc -l)
    rate=$((execs / secs))
    if ((rc == 0)); then
        result=ok
        echo "ok fuzz $t: $execs executions in $secs s ($rate/s), corpus $ncorpus inputs"
    else
        result=crash
        crashed=1
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logf" | tail -n 1)
        echo "FAIL fuzz $t: exit $rc after $execs executions; input ${input:-(none written)}"
        grep -E 'ERROR: |runtime error|invariant broken|SUMMARY' "$logf" | head -n 8 |
            sed 's/^/    /'
        echo "    (log: $logf)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "$execs" "$result" \
        >>"$FB/runs.tsv"
done
echo "fuzz: ${#targets[@]} targets, $secs s each, $total_execs executions, $( ((crashed)) && echo "crashes found" || echo "no crash")"
exit "$crashed"
