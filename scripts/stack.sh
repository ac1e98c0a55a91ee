#!/usr/bin/env bash
# The local stack for tests, demo and benchmarks: a single-node Kafka 3.9.1 (KRaft,
# combined broker + controller) and a Redis, both on loopback only, both run by this
# script as background daemons with pid files. Everything they write lives under
# build/stack/ of this checkout.
#
#   scripts/stack.sh up            start whatever is not answering yet, wait until both
#                                  answer, write build/stack.env (reuses a running stack)
#   scripts/stack.sh down [--wipe] stop both (SIGTERM, then SIGKILL); --wipe also deletes
#                                  their data
#   scripts/stack.sh wipe          same as down --wipe
#   scripts/stack.sh status        one line each; exit 0 only when both answer
#   scripts/stack.sh redis-stop [--kill]   fault tests: stop only Redis (--kill: SIGKILL,
#   scripts/stack.sh kafka-stop [--kill]   a crash, no clean shutdown) / only the broker
#   scripts/stack.sh redis-start           start it again with the same data, wait until
#   scripts/stack.sh kafka-start           it answers
#   scripts/stack.sh topics ARGS...        kafka-topics.sh against the stack's broker,
#                                          e.g. topics --create --topic t --partitions 6
#   scripts/stack.sh groups ARGS...        kafka-consumer-groups.sh likewise
#
# Environment (all optional):
#   AGG_STACK_KAFKA_PORT (19092)  AGG_STACK_CONTROLLER_PORT (19093)
#   AGG_STACK_REDIS_PORT (16379)  AGG_STACK_TIMEOUT (90, seconds to wait for an answer)
# Keep ports below 32768: above, Linux hands them out as source ports of outgoing
# connections, and a server then fails now and then to bind. The ports are read by `up`; the other commands default to those of the last `up`
# (recorded in build/stack.env).
#
# build/stack.env is plain KEY=value lines (readable by sh, make and docker --env-file);
# to get the variables into a shell's children: set -a; . build/stack.env; set +a
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$ROOT/build/stack
ENV_FILE=$ROOT/build/stack.env
LOCK_FILE=$ROOT/build/.stack.lock

HOST=127.0.0.1
# Every command but `up` works on the stack that the last `up` started: its ports are
# taken from build/stack.env unless set in the environment.
if [[ ${1:-} != up && -f $ENV_FILE ]]; then
    saved() { sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1; }
    : "${AGG_STACK_KAFKA_PORT:=$(saved AGG_STACK_KAFKA_PORT)}"
    : "${AGG_STACK_CONTROLLER_PORT:=$(saved AGG_STACK_CONTROLLER_PORT)}"
    : "${AGG_STACK_REDIS_PORT:=$(saved AGG_STACK_REDIS_PORT)}"
fi
KAFKA_PORT=${AGG_STACK_KAFKA_PORT:-19092}
CONTROLLER_PORT=${AGG_STACK_CONTROLLER_PORT:-19093}
REDIS_PORT=${AGG_STACK_REDIS_PORT:-16379}
TIMEOUT=${AGG_STACK_TIMEOUT:-90}

KAFKA_PROPS=$STACK/kafka.properties
KAFKA_LOG4J=$STACK/kafka-log4j.properties
TOOLS_LOG4J=$STACK/tools-log4j.properties
KAFKA_DATA=$STACK/kafka-data
KAFKA_LOG=$STACK/kafka.log       # the broker's own log (log4j)
KAFKA_OUT=$STACK/kafka.out       # JVM stdout/stderr: crashes before log4j is up
KAFKA_PID=$STACK/kafka.pid
KAFKA_CLUSTER_ID=$STACK/kafka-cluster-id

REDIS_CONF=$STACK/redis.conf
REDIS_DATA=$STACK/redis-data
REDIS_LOG=$STACK/redis.log
REDIS_PID=$STACK/redis.pid

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# --- helpers -----------------------------------------------------------------------

# Alive = some thread of the process has not exited yet. A zombie still answers kill -0,
# so look at the thread states; and not only at the main thread's: after SIGKILL a
# JVM's main thread turns zombie while its other threads are still exiting and still
# hold its listening sockets, so a new broker started then fails to bind its port.
alive() {
    local pid=$1 stat state
    [[ -d /proc/$pid ]] || return 1
    for stat in /proc/"$pid"/task/*/stat; do
        state=$(sed 's/^.*) \(.\).*/\1/' "$stat" 2>/dev/null) || continue
        [[ -n $state && $state != Z && $state != X ]] && return 0
    done
    return 1
}

# Prints the pid from PIDFILE if that process is alive and its command line contains
# NEEDLE; guards against a stale pid file whose number was reused by another process.
own_pid() {
    local pidfile=$1 needle=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle" || return 1
    echo "$pid"
}
kafka_pid() { own_pid "$KAFKA_PID" "$KAFKA_PROPS"; }
# Redis rewrites its process title to "redis-server 127.0.0.1:PORT". Not matched on the
# port: a server of ours started with other ports must still be seen as ours (and not
# get a second server started on its data and pid file).
redis_pid() { own_pid "$REDIS_PID" "redis-server $HOST:"; }

KCAT=$(command -v kcat 2>/dev/null || command -v kafkacat 2>/dev/null || true)

# A cheap first test: connection refused comes back at once, whereas kcat keeps
# retrying a closed port until its metadata timeout.
port_open() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

# Before starting a server: its ports must be free. A process that was just stopped may
# take a moment to let go; anything else listening there is an error worth naming.
wait_ports_free() {
    local name=$1 port i
    shift
    for port in "$@"; do
        for ((i = 0; i < 100; i++)); do
            port_open "$port" || continue 2
            sleep 0.1
        done
        die "cannot start $name: something else listens on $HOST:$port (choose other ports with AGG_STACK_*_PORT)"
    done
}

redis_answers() {
    port_open "$REDIS_PORT" || return 1
    [[ $(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

# The broker answers a metadata request and lists itself: it has joined the KRaft
# quorum and is unfenced, so topics can be created and produced to.
kafka_answers() {
    local out
    [[ -n $KCAT ]] || die "kcat (or kafkacat) not found; run scripts/deps.sh"
    port_open "$KAFKA_PORT" || return 1
    out=$(timeout 10 "$KCAT" -b "$HOST:$KAFKA_PORT" -L -m 5 2>/dev/null) || return 1
    grep -q ' 1 brokers:' <<<"$out"
}

kafka_libs() {
    local libs
    libs=$("$ROOT/scripts/deps.sh" --kafka-libs)
    # Normally `make` has run deps.sh already; this makes `scripts/stack.sh up` on its
    # own work too (it is quiet and fast when nothing is missing).
    [[ -f $(dirname "$libs")/.complete ]] || "$ROOT/scripts/deps.sh"
    echo "$libs"
}

show_tail() {
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 30 "$f" >&2
    done
}

# stop_pid NAME PID GRACE SIGNAL: send SIGNAL, wait up to GRACE seconds, then SIGKILL.
stop_pid() {
    local name=$1 pid=$2 grace=$3 sig=$4 i
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    say "$name (pid $pid) still running after ${grace}s; sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    die "$name (pid $pid) does not die even after SIGKILL"
}

# Something answers on our port that this checkout did not start: another checkout's
# stack, or a developer's own server. Fine to share for a quick try, but its data is not
# ours and the fault-test commands cannot stop it; under CI that is an error.
foreign() {
    if [[ ${CI:-} == true ]]; then
        die "$1 on $2 was not started by this checkout; under CI a shared stack is refused (stop it, or choose other ports with AGG_STACK_*_PORT)"
    fi
    say "warning: $1 on $2 answers but was not started by this checkout; using it (its data is shared)"
}

# --- Redis -------------------------------------------------------------------------

write_redis_conf() {
    mkdir -p "$REDIS_DATA"
    # Persistence: append-only file, fsync once a second, no RDB snapshots. The fault
    # tests stop and restart Redis (redis-stop / redis-start, even with SIGKILL) and
    # expect the aggregates and the stored consumer offsets to survive, as they would
    # on a real deployment (docker-compose.yml also runs Redis with appendonly yes).
    # everysec fsyncs on a background thread, so it costs the benchmarks little; RDB
    # snapshots are off because they would fork a copy of the data set while tests run.
    cat >"$REDIS_CONF" <<EOF
# Written by scripts/stack.sh; changes are overwritten on the next start.
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
loglevel notice
dir $REDIS_DATA
save ""
appendonly yes
appendfsync everysec
EOF
}

start_redis() {
    if redis_answers; then
        if redis_pid >/dev/null; then
            say "redis already running on $HOST:$REDIS_PORT (pid $(redis_pid))"
        else
            foreign redis "$HOST:$REDIS_PORT"
        fi
        return 0
    fi
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found; run scripts/deps.sh"
    local pid
    # Our process is alive but not answering yet (still loading its data): wait for it
    # rather than start a second one on the same port.
    if ! pid=$(redis_pid); then
        wait_ports_free redis "$REDIS_PORT"
        mkdir -p "$STACK"
        write_redis_conf
        rm -f "$REDIS_PID"
        # daemonize yes: returns once the child is forked; the child writes the pid file.
        # 9>&-: the daemon must not inherit the lock (see lock()).
        redis-server "$REDIS_CONF" 9>&- || { show_tail "$REDIS_LOG"; die "redis-server failed to start"; }
    fi
    local started=$SECONDS deadline=$((SECONDS + TIMEOUT))
    until redis_answers; do
        if ((SECONDS >= deadline)); then
            show_tail "$REDIS_LOG"
            die "redis did not answer on $HOST:$REDIS_PORT within ${TIMEOUT}s (log: $REDIS_LOG; if it was started with other AGG_STACK_* ports, run scripts/stack.sh down with those first)"
        fi
        # The pid file appears a moment after the fork; give it a second before
        # concluding that the server died (e.g. port taken).
        if ((SECONDS >= started + 2)) && ! redis_pid >/dev/null; then
            show_tail "$REDIS_LOG"
            die "redis-server exited during start-up (log: $REDIS_LOG)"
        fi
        sleep 0.1
    done
    say "redis up on $HOST:$REDIS_PORT (pid $(redis_pid))"
}

stop_redis() {
    local sig=${1:-TERM} pid
    if pid=$(redis_pid); then
        # SIGTERM: Redis flushes the append-only file and exits cleanly.
        stop_pid redis "$pid" 15 "$sig"
        rm -f "$REDIS_PID"
        say "redis stopped (pid $pid${sig:+, SIG$sig})"
    elif redis_answers; then
        die "redis on $HOST:$REDIS_PORT was not started by this checkout; not stopping it"
    else
        rm -f "$REDIS_PID"
        say "redis not running"
    fi
}

# --- Kafka -------------------------------------------------------------------------

write_kafka_conf() {
    mkdir -p "$KAFKA_DATA"
    cat >"$KAFKA_PROPS" <<EOF
# Written by scripts/stack.sh; changes are overwritten on the next start.
# One node that is both KRaft controller and broker, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA

# The producer creates its topics (SPEC 4); a typo must not create a stray topic.
auto.create.topics.enable=false
num.partitions=6
default.replication.factor=1
min.insync.replicas=1

# Single node: internal topics cannot have more than one replica. Fewer partitions
# than the default 50 make the first consumer group and transaction start faster.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6

# Tests start consumers often; the default 3 s delay before the first rebalance would
# only slow them down.
group.initial.rebalance.delay.ms=0

# After a crash (kafka-stop --kill in the fault tests) the restarted broker is only let
# back in once the controller has expired its previous session: 9 s by default, cut
# here so the fault tests do not wait on it. A lone local node has nobody to lose it to.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000

# Keep records forever: replay (SPEC 9) recomputes a quarter from its topic, and
# record timestamps may be far in the past (submitted_at), which time-based retention
# would delete at once.
log.retention.ms=-1
EOF
    # The broker logs to a file; WARN and above, plus the few INFO lines that say it
    # started or stopped, so the log stays small during long test runs.
    cat >"$KAFKA_LOG4J" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_LOG
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
EOF
}

# Flags as Kafka's own kafka-server-start.sh / kafka-run-class.sh would use, with a
# heap small enough for a 2-core CI machine.
kafka_jvm_opts=(
    -Xms256m -Xmx512m
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
)

launch_kafka() {
    command -v "$JAVA" >/dev/null 2>&1 || die "java not found; run scripts/deps.sh"
    local libs
    libs=$(kafka_libs)
    wait_ports_free kafka "$KAFKA_PORT" "$CONTROLLER_PORT"
    mkdir -p "$STACK"
    write_kafka_conf
    write_tools_log4j
    # KRaft needs its storage formatted with a cluster id once; keep the id so the data
    # directory and the id always match across restarts.
    if [[ ! -s $KAFKA_CLUSTER_ID ]]; then
        # A cluster id is 16 random bytes in URL-safe base64 without padding (22 chars),
        # what `kafka-storage.sh random-uuid` prints, without starting a JVM for it.
        head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_CLUSTER_ID"
    fi
    if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
        if ! "$JAVA" -Xmx256m -Dlog4j.configuration="file:$TOOLS_LOG4J" -cp "$libs/*" \
                kafka.tools.StorageTool format -t "$(<"$KAFKA_CLUSTER_ID")" \
                -c "$KAFKA_PROPS" --ignore-formatted >>"$KAFKA_OUT" 2>&1; then
            show_tail "$KAFKA_OUT"
            die "formatting the Kafka storage in $KAFKA_DATA failed"
        fi
    fi
    rm -f "$KAFKA_PID"
    # setsid: the broker gets its own session, so a Ctrl-C or a job control kill of the
    # caller's process group (make, a test runner) does not take it down; `down` does.
    # The inner bash records its own pid and then becomes java (exec keeps the pid).
    (
        cd "$STACK"
        # shellcheck disable=SC2016  # $$ and $1 belong to the inner bash
        exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID" \
            "$JAVA" "${kafka_jvm_opts[@]}" -Dlog4j.configuration="file:$KAFKA_LOG4J" \
            -cp "$libs/*" kafka.Kafka "$KAFKA_PROPS" >>"$KAFKA_OUT" 2>&1 </dev/null 9>&-
    ) &
    # The pid file is written a moment later by the child; wait_kafka waits for it.
}

wait_kafka() {
    local deadline=$((SECONDS + TIMEOUT)) started=$SECONDS
    until kafka_answers; do
        if ((SECONDS >= deadline)); then
            show_tail "$KAFKA_LOG" "$KAFKA_OUT"
            die "Kafka did not answer on $HOST:$KAFKA_PORT within ${TIMEOUT}s (still running: stop it with scripts/stack.sh down; if it was started with other AGG_STACK_* ports, use those; logs: $KAFKA_LOG $KAFKA_OUT)"
        fi
        if ((SECONDS >= started + 2)) && ! kafka_pid >/dev/null; then
            show_tail "$KAFKA_LOG" "$KAFKA_OUT"
            rm -f "$KAFKA_PID"
            die "the Kafka broker exited during start-up (logs: $KAFKA_LOG $KAFKA_OUT)"
        fi
        sleep 0.5
    done
    say "kafka up on $HOST:$KAFKA_PORT (pid $(kafka_pid), ready after $((SECONDS - started))s)"
}

# Launches the broker if it does not answer, without waiting for it (up starts Redis
# while the JVM boots); sets KAFKA_STARTING=1 when the caller must run wait_kafka.
KAFKA_STARTING=0
start_kafka() {
    KAFKA_STARTING=0
    if kafka_answers; then
        if kafka_pid >/dev/null; then
            say "kafka already running on $HOST:$KAFKA_PORT (pid $(kafka_pid))"
        else
            foreign kafka "$HOST:$KAFKA_PORT"
        fi
        return 0
    fi
    # Our broker alive but not answering yet: it is still starting; just wait for it.
    if ! kafka_pid >/dev/null; then
        launch_kafka
    fi
    KAFKA_STARTING=1
}

stop_kafka() {
    local sig=${1:-TERM} pid
    if pid=$(kafka_pid); then
        # SIGTERM: controlled shutdown, flushes and closes the logs, so the next start
        # needs no recovery. A single KRaft node usually takes a few seconds.
        stop_pid kafka "$pid" 60 "$sig"
        rm -f "$KAFKA_PID"
        say "kafka stopped (pid $pid, SIG$sig)"
    elif kafka_answers; then
        die "Kafka on $HOST:$KAFKA_PORT was not started by this checkout; not stopping it"
    else
        rm -f "$KAFKA_PID"
        say "kafka not running"
    fi
}

# Runs a Kafka command line tool class against the stack's broker.
kafka_tool() {
    local cls=$1 libs
    shift
    libs=$(kafka_libs)
    mkdir -p "$STACK"
    [[ -f $TOOLS_LOG4J ]] || write_tools_log4j
    exec "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$TOOLS_LOG4J" -cp "$libs/*" \
        "$cls" --bootstrap-server "$HOST:$KAFKA_PORT" "$@"
}

# Command line tools log warnings to stderr and nothing else.
write_tools_log4j() {
    cat >"$TOOLS_LOG4J" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# --- stack.env -----------------------------------------------------------------------

write_env() {
    local tmp
    tmp=$(mktemp "$ENV_FILE.XXXXXX")
    cat >"$tmp" <<EOF
# Written by scripts/stack.sh up: where the local stack answers.
# Use: set -a; . build/stack.env; set +a
AGG_KAFKA_BOOTSTRAP=$HOST:$KAFKA_PORT
AGG_REDIS_URL=redis://$HOST:$REDIS_PORT/0
AGG_REDIS_HOST=$HOST
AGG_REDIS_PORT=$REDIS_PORT
AGG_STACK_KAFKA_LIBS=$("$ROOT/scripts/deps.sh" --kafka-libs)
AGG_STACK_KAFKA_PORT=$KAFKA_PORT
AGG_STACK_CONTROLLER_PORT=$CONTROLLER_PORT
AGG_STACK_REDIS_PORT=$REDIS_PORT
EOF
    mv "$tmp" "$ENV_FILE"   # atomic: a concurrent reader never sees half a file
}

# --- commands ------------------------------------------------------------------------

# Start/stop commands take a lock so that two callers (parallel make targets, a test
# runner and a developer) never start a second broker on the same data directory.
# The daemons are started with fd 9 closed: a daemon holding it would keep the lock
# for its whole life.
lock() {
    mkdir -p "$(dirname "$LOCK_FILE")"
    exec 9>"$LOCK_FILE"
    flock -w 300 9 || die "could not lock $LOCK_FILE within 300 s (another stack.sh running?)"
}

cmd_up() {
    lock
    mkdir -p "$STACK"
    # Launch the broker first: its JVM boots while Redis starts.
    start_kafka
    start_redis
    if ((KAFKA_STARTING)); then wait_kafka; fi
    write_env
    say "environment in build/stack.env (set -a; . build/stack.env; set +a):"
    sed -n 's/^\(AGG_KAFKA_BOOTSTRAP\|AGG_REDIS_URL\)=/  &/p' "$ENV_FILE"
}

cmd_down() {
    local wipe=0
    case ${1:-} in
        --wipe) wipe=1 ;;
        "") ;;
        *) die "down: unknown option $1 (only --wipe)" ;;
    esac
    lock
    local rc=0
    # Stop both even if one of them refuses (e.g. not ours), then report.
    (stop_kafka) || rc=1
    (stop_redis) || rc=1
    rm -f "$ENV_FILE"
    if ((wipe)); then
        ((rc == 0)) || die "not wiping $STACK: something there may still be running"
        rm -rf "$STACK"
        say "wiped $STACK"
    fi
    return "$rc"
}

cmd_status() {
    local rc=0 pid
    if kafka_answers; then
        if pid=$(kafka_pid); then
            say "kafka: up on $HOST:$KAFKA_PORT (pid $pid)"
        else
            say "kafka: up on $HOST:$KAFKA_PORT (not started by this checkout)"
        fi
    elif pid=$(kafka_pid); then
        say "kafka: starting or stuck (pid $pid, not answering on $HOST:$KAFKA_PORT)"; rc=3
    else
        say "kafka: down"; rc=3
    fi
    if redis_answers; then
        if pid=$(redis_pid); then
            say "redis: up on $HOST:$REDIS_PORT (pid $pid)"
        else
            say "redis: up on $HOST:$REDIS_PORT (not started by this checkout)"
        fi
    elif pid=$(redis_pid); then
        say "redis: starting or stuck (pid $pid, not answering on $HOST:$REDIS_PORT)"; rc=3
    else
        say "redis: down"; rc=3
    fi
    return "$rc"
}

stop_signal() {
    case ${1:-} in
        --kill) echo KILL ;;
        "") echo TERM ;;
        *) die "unknown option $1 (only --kill)" ;;
    esac
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
    up)          cmd_up ;;
    down)        cmd_down "$@" ;;
    wipe)        cmd_down --wipe ;;
    status)      cmd_status ;;
    redis-stop)  sig=$(stop_signal "$@"); lock; stop_redis "$sig" ;;
    redis-start) lock; start_redis ;;
    kafka-stop)  sig=$(stop_signal "$@"); lock; stop_kafka "$sig" ;;
    kafka-start) lock; start_kafka; if ((KAFKA_STARTING)); then wait_kafka; fi ;;
    topics)      kafka_tool org.apache.kafka.tools.TopicCommand "$@" ;;
    groups)      kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
    -h|--help|help) usage ;;
    *)           usage >&2; exit 2 ;;
esac
