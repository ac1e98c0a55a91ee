#!/usr/bin/env bash
# sanitizer: yes
# timeout: 180
#
# agg-produce error handling (SPEC 3, 10): exit codes 0 / 1 invalid input / 2 usage /
# 3 delivery failure, errors as FILE:LINE: column 'NAME' (N): reason, nothing published
# from a file with an invalid row unless --skip-invalid (which still exits 1).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

D=$TEST_DIR
HEADER=region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at

# run_produce NAME ARGS...: runs agg-produce, keeps stdout/stderr in $D/NAME.out/.err,
# sets RC. Bounded: a hang is a failure too.
run_produce() {
    local name=$1
    shift
    RC=0
    timeout 90 "$AGG_BIN/agg-produce" "$@" >"$D/$name.out" 2>"$D/$name.err" || RC=$?
    log "$name: exit $RC; stderr: $(head -c 300 "$D/$name.err" | tr '\n' '|')"
}
expect_stderr() { # NAME REGEX
    grep -qE -- "$2" "$D/$1.err" || mismatch "$1: stderr does not match /$2/: $(head -c 500 "$D/$1.err")"
}

# 1. An unknown column (a typo of "region") is an error.
cat >"$D/typo.csv" <<'EOF'
regoin,year,quarter,goal,indicator,completion
arkhangai,2024,2,3,3.1.1,80
EOF
run_produce typo -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}a." "$D/typo.csv"
expect_eq "unknown column: exit code" 1 "$RC"
expect_stderr typo "unknown column"
expect_stderr typo "regoin"
expect_eq "unknown column: messages published" 0 "$(topic_count "${TOPIC_PREFIX}a.2024-Q2")"

# 2. A decimal comma on line 3: the whole file is refused, the error names file, line
# and column; rows 2 and 4 are valid but must not be published either.
cat >"$D/comma.csv" <<EOF
$HEADER
arkhangai,2024,2,3,3.1.1,count,10,8,80,1,2024-07-05T10:00:00Z
arkhangai,2024,2,3,3.1.2,count,10,8,"75,8",1,2024-07-05T10:00:00Z
bulgan,2024,2,3,3.1.1,count,10,8,80,1,2024-07-05T10:00:00Z
EOF
run_produce comma -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}b." "$D/comma.csv"
expect_eq "decimal comma: exit code" 1 "$RC"
expect_stderr comma "comma\.csv:3: column 'completion'"
expect_eq "decimal comma: messages published" 0 "$(topic_count "${TOPIC_PREFIX}b.2024-Q2")"

# 3. --skip-invalid: the two valid rows go out, the exit code still says 1.
run_produce skip -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}c." --skip-invalid \
    "$D/comma.csv"
expect_eq "--skip-invalid: exit code" 1 "$RC"
expect_stderr skip "comma\.csv:3: column 'completion'"
expect_eq "--skip-invalid: messages published" 2 "$(topic_count "${TOPIC_PREFIX}c.2024-Q2")"
keys=$(timeout 30 kcat -b "$AGG_KAFKA_BOOTSTRAP" -C -t "${TOPIC_PREFIX}c.2024-Q2" -o beginning -e -q \
    -f '%k\n' 2>/dev/null | sort | xargs || true)
expect_eq "--skip-invalid: keys published" "arkhangai bulgan" "$keys"

# 4. An unknown region is invalid (the reference list), accepted with --no-region-check.
cat >"$D/region.csv" <<EOF
$HEADER
atlantis,2024,2,3,3.1.1,count,10,8,80,1,2024-07-05T10:00:00Z
EOF
run_produce region -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}d." "$D/region.csv"
expect_eq "unknown region: exit code" 1 "$RC"
expect_stderr region "region\.csv:2: column 'region'"
run_produce region-nocheck -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}d." \
    --no-region-check "$D/region.csv"
expect_eq "--no-region-check: exit code" 0 "$RC"
expect_eq "--no-region-check: messages published" 1 "$(topic_count "${TOPIC_PREFIX}d.2024-Q2")"

# 5. --dry-run validates and publishes nothing.
cat >"$D/good.csv" <<EOF
$HEADER
arkhangai,2024,2,3,3.1.1,count,10,8,80,1,2024-07-05T10:00:00Z
EOF
run_produce dry -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}e." --dry-run "$D/good.csv"
expect_eq "--dry-run: exit code" 0 "$RC"
expect_eq "--dry-run: messages published" 0 "$(topic_count "${TOPIC_PREFIX}e.2024-Q2")"

# 6. Usage errors: an unknown flag, no file.
run_produce badflag -b "$AGG_KAFKA_BOOTSTRAP" --no-such-flag "$D/good.csv"
expect_eq "unknown flag: exit code" 2 "$RC"
run_produce nofile -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}e."
expect_eq "no input file: exit code" 2 "$RC"

# 7. Nothing listens on port 1: delivery fails -> exit 3, and the rows not acknowledged
# are named (FILE:LINE).
t0=$(now_s)
run_produce unreachable -b 127.0.0.1:1 -X message.timeout.ms=3000 \
    --topic-prefix "${TOPIC_PREFIX}f." "$D/good.csv"
log "unreachable broker: gave up after $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }') s"
expect_eq "unreachable broker: exit code" 3 "$RC"
expect_stderr unreachable "good\.csv:2: "

# 8. The good file for real: exit 0, one message, key = region.
run_produce good -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}g." "$D/good.csv"
expect_eq "valid file: exit code" 0 "$RC"
expect_eq "valid file: messages published" 1 "$(topic_count "${TOPIC_PREFIX}g.2024-Q2")"

# The worker refuses prefixes that would make bad or truncated names, before connecting.
set +e
out=$("$AGG_BIN/agg-worker" --key-prefix "a b" 2>&1); rc=$?
set -e
expect_eq "worker, key prefix with a space: exit code" 2 "$rc"
expect_eq "worker, key prefix with a space: message" \
    "agg-worker: key prefix: byte 2 is a space or a control byte" "$out"
set +e
out=$("$AGG_BIN/agg-worker" --key-prefix "agg:internal" 2>&1); rc=$?
set -e
expect_eq "worker, key prefix reaching another deployment's keys: exit code" 2 "$rc"
expect_eq "worker, key prefix reaching another deployment's keys: message" \
    "agg-worker: key prefix \"agg:internal\": ':' is not allowed (keys are <prefix>:..., so it could reach another deployment's keys)" "$out"
# A secret-looking -X value never appears in an error.
set +e
out=$("$AGG_BIN/agg-worker" -X no.such.password=hunter2 2>&1); rc=$?
set -e
expect_eq "worker, unknown secret property: exit code" 2 "$rc"
[[ $out != *hunter2* && $out == *"no.such.password=(hidden)"* ]] ||
    mismatch "worker printed a secret or no hidden marker: $out"
set +e
out=$("$AGG_BIN/agg-worker" --key-prefix "$(printf 'k%.0s' {1..60})" \
    --topic-prefix "$(printf 't%.0s' {1..200})" 2>&1); rc=$?
set -e
expect_eq "worker, prefixes too long for the offsets key: exit code" 2 "$rc"
expect_eq "worker, prefixes too long for the offsets key: message" \
    "agg-worker: key prefix and topic prefix together too long: the offsets key would need 285 bytes (max 255)" "$out"

assert_all_passed
