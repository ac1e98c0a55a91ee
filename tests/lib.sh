# shellcheck shell=bash
# Helpers for the integration tests (tests/integration/NN-name.sh). Source it after
# `set -euo pipefail`; it
#   - cds to the checkout, reads build/stack.env (Kafka and Redis of scripts/stack.sh),
#   - gives the test its own names: TOPIC_PREFIX "tNN.<run>.", KEY_PREFIX "tNN_<run>",
#     GROUP "tNN-<run>", so tests never see each other's data and need no wipe,
#   - gives it a work directory TEST_DIR = $AGG_TEST_LOGS/NN-name (worker logs, inputs)
#   - on exit kills the workers it started; on failure prints their last log lines and
#     keeps everything; on success deletes the test's topics, its Redis keys and its
#     big generated CSV files (KEEP=1 keeps them).
#
# Assertion helpers (hash_equals, zset_equals, ...) report every mismatch and count it
# in ASSERT_FAILS instead of stopping at the first one; end the test with
# assert_all_passed. Everything that waits has a bounded time and fails with a message.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

AGG_BIN=${AGG_BIN:-bin}
AGG_TEST_BUILD=${AGG_TEST_BUILD:-build}
AGG_TEST_LOGS=${AGG_TEST_LOGS:-$AGG_TEST_BUILD/test-logs}
case $AGG_BIN in /*) ;; *) AGG_BIN=$ROOT/$AGG_BIN ;; esac
case $AGG_TEST_LOGS in /*) ;; *) AGG_TEST_LOGS=$ROOT/$AGG_TEST_LOGS ;; esac
export AGG_BIN AGG_TEST_BUILD AGG_TEST_LOGS

STACK_ENV=${AGG_STACK_ENV:-$ROOT/build/stack.env}
if [[ ! -f $STACK_ENV ]]; then
    echo "lib.sh: $STACK_ENV missing; run scripts/stack.sh up" >&2
    exit 1
fi
set -a
# shellcheck disable=SC1090
. "$STACK_ENV"
set +a

TEST_NAME=$(basename "$0" .sh)        # e.g. 10-scripted
TEST_NUM=${TEST_NAME%%-*}             # e.g. 10
RUN_ID=${RUN_ID:-$(date +%s)$((RANDOM % 1000))}
# shellcheck disable=SC2034  # used by the tests that source this file
{
    TOPIC_PREFIX="t$TEST_NUM.$RUN_ID."
    KEY_PREFIX="t${TEST_NUM}_$RUN_ID"
    GROUP="t$TEST_NUM-$RUN_ID"
    DLQ_TOPIC="${TOPIC_PREFIX}dlq"
}
TEST_DIR=$AGG_TEST_LOGS/$TEST_NAME
rm -rf "$TEST_DIR"
mkdir -p "$TEST_DIR"

WORKER_PIDS=()
WORKER_LOGS=()
WORKER_PID=
ASSERT_FAILS=0
T0=$(date +%s.%N)

log() { printf '[%6ss] %s\n' "$(elapsed)" "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
elapsed() { awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN { printf "%.1f", a - b }'; }
now_s() { date +%s.%N; }

rcli() { redis-cli -h "$AGG_REDIS_HOST" -p "$AGG_REDIS_PORT" --raw "$@"; }
kc() { kcat -b "$AGG_KAFKA_BOOTSTRAP" "$@"; }

# produce [agg-produce options] FILE...: agg-produce with this test's broker and topics.
produce() {
    "$AGG_BIN/agg-produce" -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "$TOPIC_PREFIX" -q "$@"
}

# close_quarter QUARTER [agg-produce options]: writes the close markers of QUARTER.
close_quarter() {
    local q=$1
    shift
    "$AGG_BIN/agg-produce" close --quarter "$q" -b "$AGG_KAFKA_BOOTSTRAP" \
        --topic-prefix "$TOPIC_PREFIX" -q "$@"
}

# summaries QUARTER [agg-summaries options]: every distinct summary of QUARTER on this
# test's summary topic, one JSON line each (--all: every revision).
summaries() {
    local q=$1
    shift
    "$AGG_BIN/agg-summaries" -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "$TOPIC_PREFIX" \
        --quarter "$q" --json --all "$@"
}

# wait_summaries QUARTER N SECONDS: until N distinct summaries of QUARTER are on the topic.
wait_summaries() {
    local q=$1 n=$2 deadline=$(($(date +%s) + $3)) got
    while :; do
        # A topic just created may not answer yet: a failed read counts as none so far.
        got=$({ summaries "$q" 2>/dev/null || true; } | wc -l)
        ((got >= n)) && return 0
        (($(date +%s) < deadline)) || fail "only $got of $n summaries of $q after $3 s"
        sleep 0.3
    done
}

# summary_messages QUARTER: messages with key QUARTER on the summary topic, duplicates
# included (compare with the distinct count of summaries).
summary_messages() {
    { timeout 30 kcat -b "$AGG_KAFKA_BOOTSTRAP" -C -t "${TOPIC_PREFIX}summaries" -o beginning \
        -e -q -f '%k\n' 2>/dev/null || true; } | grep -cx "$1" || true
}

# create_topic NAME PARTITIONS: explicit topic (the broker does not auto-create).
create_topic() {
    "$ROOT/scripts/stack.sh" topics --create --topic "$1" --partitions "$2" \
        --replication-factor 1 >/dev/null
}

# topic_count TOPIC: number of messages in TOPIC (0 when it does not exist).
topic_count() {
    { timeout 30 kcat -b "$AGG_KAFKA_BOOTSTRAP" -C -t "$1" -o beginning -e -q -f 'x\n' \
        2>/dev/null || true; } | wc -l
}

# start_worker NAME [agg-worker options]: starts a worker in the background with this
# test's broker, Redis, group and prefixes; its stdout and stderr go to
# $TEST_DIR/NAME.log (appended, so a restarted worker keeps one log). Sets WORKER_PID
# (not printed: a $(...) subshell would not be the worker's parent).
start_worker() {
    local name=$1
    shift
    local logf=$TEST_DIR/$name.log
    echo "=== start $(date +%T.%N) ===" >>"$logf"
    # The test quarters (2024) are long past their deadlines: the deadline close stays off
    # unless a test asks for it (DEADLINE_CLOSE=1).
    local dl=(--no-deadline-close)
    [[ ${DEADLINE_CLOSE:-0} == 1 ]] && dl=()
    "$AGG_BIN/agg-worker" -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
        --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" \
        "${dl[@]}" "$@" >>"$logf" 2>&1 &
    WORKER_PID=$!
    WORKER_PIDS+=("$WORKER_PID")
    WORKER_LOGS+=("$logf")
}

alive() { kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]; }

any_worker_alive() {
    local p
    for p in "${WORKER_PIDS[@]}"; do alive "$p" && return 0; done
    return 1
}

# wait_exit PID SECONDS: waits for a worker to exit and sets EXIT_RC to its exit
# status (call it directly, not in $(...): only this shell can reap its child). Fails
# when it is still running after SECONDS.
wait_exit() {
    local pid=$1 limit=$2 deadline
    deadline=$(($(date +%s) + limit))
    while alive "$pid"; do
        (($(date +%s) < deadline)) || fail "worker pid $pid still running after ${limit}s"
        sleep 0.1
    done
    # shellcheck disable=SC2034  # read by the caller
    {
        EXIT_RC=0
        wait "$pid" 2>/dev/null || EXIT_RC=$?
    }
}

# applied TOPIC...: sum of the next-offsets the worker stored for TOPIC(s), i.e. the
# number of messages applied from topics that started empty. Empty output when Redis
# does not answer.
applied() {
    local t out sum=0
    for t in "$@"; do
        out=$(rcli HVALS "$KEY_PREFIX:internal:offsets:$t" 2>/dev/null) || return 0
        [[ -z $out || $out =~ ^[0-9[:space:]]+$ ]] || { echo "bad offsets hash: $out" >&2; return 0; }
        sum=$((sum + $(awk '{s += $1} END {print s + 0}' <<<"$out")))
    done
    echo "$sum"
}

# wait_applied TOPIC N [SECONDS=120]: polls until the stored offsets of TOPIC add up to
# N. Fails when they exceed N, when no worker of this test is alive any more, or when
# time is up.
wait_applied() {
    local topic=$1 n=$2 limit=${3:-120} deadline got=
    deadline=$(($(date +%s) + limit))
    while :; do
        got=$(applied "$topic")
        if [[ $got == "$n" ]]; then
            return 0
        fi
        if [[ -n $got ]] && ((got > n)); then
            fail "wait_applied $topic: offsets add up to $got, more than the $n messages published"
        fi
        if ! any_worker_alive; then
            got=$(applied "$topic")
            [[ $got == "$n" ]] && return 0
            fail "wait_applied $topic: no worker alive and only ${got:-?} of $n messages applied"
        fi
        if (($(date +%s) >= deadline)); then
            fail "wait_applied $topic: only ${got:-?} of $n messages applied after ${limit}s"
        fi
        sleep 0.2
    done
}

# --- assertions: each prints a mismatch and counts it; none stops the test ------------

mismatch() {
    printf 'MISMATCH %s\n' "$*" >&2
    ASSERT_FAILS=$((ASSERT_FAILS + 1))
}

# expect_type KEY TYPE: returns 1 (after counting a mismatch) when KEY is not a TYPE.
expect_type() {
    local t
    t=$(rcli TYPE "$1")
    [[ $t == "$2" ]] && return 0
    mismatch "$1: type '$t', expected '$2'"
    return 1
}

# compare_lines WHAT EXPECTED ACTUAL: both newline-separated, compared sorted.
compare_lines() {
    local what=$1 exp act
    exp=$(printf '%s\n' "$2" | sed '/^$/d' | LC_ALL=C sort)
    act=$(printf '%s\n' "$3" | sed '/^$/d' | LC_ALL=C sort)
    if [[ $exp == "$act" ]]; then
        return 0
    fi
    mismatch "$what"
    diff -u <(echo "$exp") <(echo "$act") | sed -e '1,2d' -e 's/^/    /' >&2 || true
    return 1
}

# hash_equals KEY "field=value ...": the hash has exactly these fields (updated_ms is
# ignored: it is the apply time).
hash_equals() {
    local key=$1 exp act
    expect_type "$key" hash || return 0
    exp=$(tr -s '[:space:]' '\n' <<<"$2")
    act=$(rcli HGETALL "$key" | paste -d= - - | grep -v '^updated_ms=' || true)
    compare_lines "$key (hash; - expected, + actual)" "$exp" "$act" || true
}

# hash_field KEY FIELD VALUE: one field only.
hash_field() {
    local got
    got=$(rcli HGET "$1" "$2")
    [[ $got == "$3" ]] || mismatch "$1: field $2 is '$got', expected '$3'"
}

# zset_equals KEY "member=score ...": exactly these members with these scores.
zset_equals() {
    local key=$1 exp act
    expect_type "$key" zset || return 0
    exp=$(tr -s '[:space:]' '\n' <<<"$2")
    act=$(rcli ZRANGE "$key" 0 -1 WITHSCORES | paste -d= - -)
    compare_lines "$key (zset; - expected, + actual)" "$exp" "$act" || true
}

# set_equals KEY "member ...": exactly these members.
set_equals() {
    local key=$1 exp act
    expect_type "$key" set || return 0
    exp=$(tr -s '[:space:]' '\n' <<<"$2")
    act=$(rcli SMEMBERS "$key")
    compare_lines "$key (set; - expected, + actual)" "$exp" "$act" || true
}

key_absent() {
    [[ $(rcli EXISTS "$1") == 0 ]] || mismatch "$1 exists ($(rcli TYPE "$1")), expected absent"
}

# public_keys_equal "KEY ...": the keys under KEY_PREFIX (internal ones left out) are
# exactly these.
public_keys_equal() {
    local exp act
    exp=$(tr -s '[:space:]' '\n' <<<"$1")
    act=$(rcli --scan --pattern "$KEY_PREFIX:*" | grep -v "^$KEY_PREFIX:internal:" || true)
    compare_lines "public keys under $KEY_PREFIX: (- expected, + actual)" "$exp" "$act" || true
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    [[ $2 == "$3" ]] || mismatch "$1: expected '$2', got '$3'"
}

# replay [agg-worker replay options]: a replay with this test's broker, Redis, group and
# prefixes.
replay() {
    "$AGG_BIN/agg-worker" replay -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
        --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" "$@"
}
# replay_exec ...: the same, for `replay_exec ... &`: the background subshell becomes
# agg-worker (exec), so $! is the replay's own pid and a signal sent to it reaches the
# replay, not a shell around it.
replay_exec() {
    exec "$AGG_BIN/agg-worker" replay -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
        --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" "$@"
}

# reference FILE...: tests/reference.py against this test's key prefix.
reference() {
    python3 "$ROOT/tests/reference.py" --key-prefix "$KEY_PREFIX" --redis-url "$AGG_REDIS_URL" "$@"
}

# --- generated data sets (tests/reference.py --generate) -------------------------------

# gen_data ROWS SEED QUARTERS [NAME=data]: deterministic rows in
# $TEST_DIR/NAME/wave-{1..5}.csv (wave 1: revision 1 of every identity; waves 2-5:
# corrections, goal/unit moves, resends, stale revisions). Sets DATA_FILES (in
# publishing order), DATA_TOPICS, DATA_COUNT[topic] (messages per topic), DATA_TOTAL.
declare -A DATA_COUNT=()
gen_data() {
    local rows=$1 seed=$2 quarters=$3 dir=$TEST_DIR/${4:-data}
    mkdir -p "$dir"
    python3 "$ROOT/tests/reference.py" --generate "$rows" --seed "$seed" \
        --quarters "$quarters" --out-dir "$dir" >/dev/null
    DATA_FILES=("$dir"/wave-{1,2,3,4,5}.csv)
    count_data "${DATA_FILES[@]}"
}

# count_data FILE...: sets DATA_TOPICS, DATA_COUNT and DATA_TOTAL for these files.
count_data() {
    local q n
    DATA_TOPICS=()
    DATA_COUNT=()
    DATA_TOTAL=0
    while read -r q n; do
        DATA_TOPICS+=("$TOPIC_PREFIX$q")
        DATA_COUNT[$TOPIC_PREFIX$q]=$n
        DATA_TOTAL=$((DATA_TOTAL + n))
    done < <(python3 "$ROOT/tests/reference.py" --counts "$@")
}

# applied_all: messages applied over DATA_TOPICS (empty when Redis does not answer).
applied_all() { applied "${DATA_TOPICS[@]}"; }

# wait_applied_all [SECONDS]: every topic of the data set fully applied.
wait_applied_all() {
    local t
    for t in "${DATA_TOPICS[@]}"; do
        wait_applied "$t" "${DATA_COUNT[$t]}" "${1:-300}"
    done
}

# wait_progress FROM SECONDS: until more than FROM messages are applied over
# DATA_TOPICS (or all are). Returns 1 on timeout.
wait_progress() {
    local from=$1 deadline a
    deadline=$(($(date +%s) + $2))
    while (($(date +%s) < deadline)); do
        a=$(applied_all)
        if [[ -n $a ]] && ((a > from || a >= DATA_TOTAL)); then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# publish FILE...: agg-produce each file in order (one region's rows stay in order).
publish() {
    local f t0 t1
    t0=$(now_s)
    for f in "$@"; do
        produce "$f" || fail "agg-produce $f failed (exit $?)"
    done
    t1=$(now_s)
    log "published $(basename -a "$@" | xargs) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}

assert_all_passed() {
    ((ASSERT_FAILS == 0)) || fail "$ASSERT_FAILS assertion(s) failed"
    log "all assertions passed"
}

# --- cleanup ---------------------------------------------------------------------------

# Sanitizer reports in any worker log fail the test, even if the worker exited 0.
check_sanitizer_logs() {
    local f
    for f in "${WORKER_LOGS[@]}"; do
        [[ -f $f ]] || continue
        if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
            echo "sanitizer report in $f:" >&2
            grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -60 >&2
            return 1
        fi
    done
}

# Outages of the stack's services (fault tests). A service stopped with service_stop is
# started again by cleanup, whatever ends the test, so no later test finds it down.
STOPPED_SERVICES=()
service_stop() { # service_stop redis|kafka [--kill]
    local service=$1
    shift
    STOPPED_SERVICES+=("$service")
    "$ROOT/scripts/stack.sh" "$service-stop" "$@"
}
service_start() { # service_start redis|kafka
    local s kept=()
    "$ROOT/scripts/stack.sh" "$1-start"
    for s in "${STOPPED_SERVICES[@]}"; do [[ $s == "$1" ]] || kept+=("$s"); done
    STOPPED_SERVICES=("${kept[@]}")
}

# cleanup [STATUS]: the EXIT trap.
cleanup() {
    local rc=${1:-$?} p i s
    trap - EXIT
    for s in "${STOPPED_SERVICES[@]}"; do
        "$ROOT/scripts/stack.sh" "$s-start" >/dev/null || true
    done
    for p in "${WORKER_PIDS[@]}"; do
        alive "$p" && kill -TERM "$p" 2>/dev/null
    done
    for ((i = 0; i < 50; i++)); do
        any_worker_alive || break
        sleep 0.1
    done
    for p in "${WORKER_PIDS[@]}"; do
        alive "$p" && kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null || true
    done
    if ((rc == 0)) && ! check_sanitizer_logs; then
        rc=1
    fi
    if ((rc != 0)); then
        local f
        for f in $(printf '%s\n' "${WORKER_LOGS[@]}" | sort -u); do
            [[ -f $f ]] || continue
            echo "--- last lines of $f ---" >&2
            tail -n 15 "$f" >&2
        done
        echo "(test data and logs kept in $TEST_DIR; keys under $KEY_PREFIX:)" >&2
    else
        if [[ ${KEEP:-0} != 1 ]]; then
            # Big generated inputs go; logs stay for inspection. The topics and Redis
            # keys of a passing test are deleted so repeated runs do not fill the
            # stack (TopicCommand takes a regular expression).
            find "$TEST_DIR" -name '*.csv' -size +1M -delete 2>/dev/null || true
            timeout 60 "$ROOT/scripts/stack.sh" topics --delete \
                --topic "${TOPIC_PREFIX//./\\.}.*" >/dev/null 2>&1 || true
            rcli --scan --pattern "$KEY_PREFIX:*" 2>/dev/null |
                xargs -r -n 500 redis-cli -h "$AGG_REDIS_HOST" -p "$AGG_REDIS_PORT" UNLINK \
                    >/dev/null 2>&1 || true
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
