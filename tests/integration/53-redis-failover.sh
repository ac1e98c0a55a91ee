#!/usr/bin/env bash
# timeout: 180
#
# Redis failover (hardening, item 2): the worker reaches Redis through an address that
# moves (a TCP forwarder standing in for a proxy or a DNS name). Mid-run a replica (a
# second redis-server with replicaof) is promoted, the forwarder points new connections
# at it, and the old primary becomes a replica of it -- so the worker's open connection
# now answers READONLY. The worker must drop that connection on READONLY, reconnect
# through the address, find the new primary and go on; the totals are exact there.
# (Retrying READONLY on the same connection, as before, stalls forever.)
#
# This turns the shared stack's Redis into a replica for a while (and back): do not run
# it beside other users of the stack.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

R2_PORT=$((AGG_REDIS_PORT + 7))
PROXY_PORT=$((AGG_REDIS_PORT + 8))
R2_DIR=$TEST_DIR/replica
mkdir -p "$R2_DIR"
redis-server --port "$R2_PORT" --bind 127.0.0.1 --dir "$R2_DIR" --save '' --appendonly no \
    --replicaof "$AGG_REDIS_HOST" "$AGG_REDIS_PORT" --daemonize yes \
    --pidfile "$R2_DIR/redis.pid" --logfile "$R2_DIR/redis.log"
r2() { redis-cli -h 127.0.0.1 -p "$R2_PORT" --raw "$@"; }
restore() {
    rcli REPLICAOF NO ONE >/dev/null 2>&1 || true
    [[ -f $R2_DIR/redis.pid ]] && kill "$(cat "$R2_DIR/redis.pid")" 2>/dev/null || true
    [[ -n ${PROXY_PID:-} ]] && kill "$PROXY_PID" 2>/dev/null || true
}
trap 'rc=$?; restore; cleanup "$rc"' EXIT
for ((i = 0; i < 100; i++)); do
    [[ $(r2 INFO replication 2>/dev/null | tr -d '\r' | sed -n 's/^master_link_status://p') == up ]] && break
    sleep 0.1
done
echo "$AGG_REDIS_HOST:$AGG_REDIS_PORT" >"$TEST_DIR/target"
python3 "$ROOT/tests/tcp_proxy.py" --listen "$PROXY_PORT" --target-file "$TEST_DIR/target" &
PROXY_PID=$!
sleep 0.5

gen_data 8000 53 2024-Q3
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"
"$AGG_BIN/agg-worker" -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "redis://127.0.0.1:$PROXY_PORT/0" \
    --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" \
    --no-deadline-close >>"$TEST_DIR/worker.log" 2>&1 &
WORKER_PID=$!
WORKER_PIDS+=("$WORKER_PID")
WORKER_LOGS+=("$TEST_DIR/worker.log")
wait_applied_all 90
log "wave 1 applied through the forwarder; failing over"

# Failover: promote the replica, move the address, demote the old primary.
r2 REPLICAOF NO ONE >/dev/null
echo "127.0.0.1:$R2_PORT" >"$TEST_DIR/target"
rcli REPLICAOF 127.0.0.1 "$R2_PORT" >/dev/null
for ((i = 0; i < 100; i++)); do
    [[ $(rcli INFO replication | tr -d '\r' | sed -n 's/^master_link_status://p') == up ]] && break
    sleep 0.1
done
count_data "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv"
publish "$TEST_DIR/data/wave-2.csv"
# The stored offsets are read from the old primary, now a replica of the new one.
wait_applied_all 60
log "wave 2 applied after the failover"
grep -q 'redis_not_primary' "$TEST_DIR/worker.log" || mismatch "the worker never dropped a connection on READONLY"
expect_eq "new primary's role" master "$(r2 ROLE | head -1)"
alive "$WORKER_PID" || fail "the worker exited"
AGG_REDIS_URL="redis://127.0.0.1:$R2_PORT/0" reference "$TEST_DIR/data/wave-1.csv" "$TEST_DIR/data/wave-2.csv" ||
    mismatch "reference.py on the new primary"
assert_all_passed
