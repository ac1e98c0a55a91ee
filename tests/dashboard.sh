# shellcheck shell=bash
# Helpers of the dashboard tests (tests/integration/8N-*.sh), sourced after lib.sh.
#   load_fixture               tests/fixtures/dashboard.redis under this test's KEY_PREFIX
#   make_readonly_user         the README's ACL rule for a read-only user, named DASH_USER
#   start_dashboard NAME ARGS  agg-dashboard on a free loopback port: DASH_PID, DASH_URL
#   get PATH [curl args]       HTTP_CODE, and the body in $BODY (a file)
#   json_is WHAT FILTER JSON   jq FILTER over $BODY equals JSON (both normalised by jq -S)

# The rule of the README ("Read-only Redis user"): reads of the public keys and of the
# workers' metrics, nothing that writes. %R~ grants read access only to the keys.
dash_acl_rule() { # PREFIX PASSWORD
    echo "on >$2 resetkeys %R~$1:* resetchannels -@all +ping +select +get +hget +hgetall +hmget +zrange +zscore +smembers +scan +multi +exec"
}
DASH_USER="dash_$RUN_ID"
DASH_PASS="pw-$RUN_ID"

make_readonly_user() {
    # shellcheck disable=SC2046  # the rule is a list of words
    [[ $(rcli ACL SETUSER "$DASH_USER" $(dash_acl_rule "$KEY_PREFIX" "$DASH_PASS")) == OK ]] ||
        fail "ACL SETUSER $DASH_USER failed"
}

drop_readonly_user() { rcli ACL DELUSER "$DASH_USER" >/dev/null 2>&1 || true; }

load_fixture() {
    local out
    out=$(sed -e "s/@P@/$KEY_PREFIX/g" -e '/^#/d' "$ROOT/tests/fixtures/dashboard.redis" | rcli) ||
        fail "loading the fixture failed"
    grep -qi err <<<"$out" && fail "loading the fixture: $out"
    return 0
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_dashboard NAME [agg-dashboard options]: key prefix of this test, loopback port.
start_dashboard() {
    local name=$1 port deadline
    shift
    port=$(free_port)
    local logf=$TEST_DIR/$name.log
    "$AGG_BIN/agg-dashboard" --listen "127.0.0.1:$port" --key-prefix "$KEY_PREFIX" "$@" \
        >>"$logf" 2>&1 &
    DASH_PID=$!
    WORKER_PIDS+=("$DASH_PID") # lib.sh's cleanup stops it and checks its log
    WORKER_LOGS+=("$logf")
    DASH_URL=http://127.0.0.1:$port
    deadline=$(($(date +%s) + 10))
    until curl -fsS -m 2 "$DASH_URL/healthz" >/dev/null 2>&1; do
        alive "$DASH_PID" || fail "agg-dashboard exited: $(tail -n 5 "$logf")"
        (($(date +%s) < deadline)) || fail "agg-dashboard did not answer within 10 s"
        sleep 0.1
    done
}

BODY=$TEST_DIR/body
get() {
    local path=$1
    shift
    HTTP_CODE=$(curl -sS -m 10 -o "$BODY" -w '%{http_code}' "$@" "$DASH_URL$path") || HTTP_CODE=000
}

expect_code() { # WHAT CODE
    [[ $HTTP_CODE == "$2" ]] || mismatch "$1: HTTP $HTTP_CODE, expected $2 ($(head -c 300 "$BODY"))"
}

json_is() { # WHAT FILTER EXPECTED-JSON
    local got want
    got=$(jq -cS "$2" "$BODY" 2>&1) || got="(not JSON: $(head -c 200 "$BODY"))"
    want=$(jq -cS . <<<"$3") || fail "json_is $1: expected value is not JSON"
    if [[ $got != "$want" ]]; then
        mismatch "$1 ($2)"
        diff -u <(jq -S . <<<"$want") <(jq -S . <<<"$got" 2>/dev/null || echo "$got") |
            sed -e '1,2d' -e 's/^/    /' >&2 || true
    fi
}
