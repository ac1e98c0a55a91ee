#!/usr/bin/env bash
# Installs what building, testing and the local stack need, and only what is missing:
#   - Debian packages: compiler, librdkafka, protobuf-c, hiredis, redis, kcat, Java, Maven;
#     libzip and libxml2 (agg-import reads .docx); libmicrohttpd and jansson
#     (agg-dashboard); OpenSSL's libcrypto (digests of DLQ entries); chromium and the
#     Prometheus text parser (python3-prometheus-client), python3-websocket (DevTools
#     protocol) for the dashboard's browser and /metrics tests
#   - the jars of a Kafka 3.9.1 broker, fetched from Maven Central into a cache folder
#     (Debian has no Kafka package, and Maven Central is the one place we can reach).
# Idempotent and quiet: when everything is there it prints nothing and takes well under
# a second, because `make test`, `make up` etc. run it every time. One line per thing
# it installs.
#
# Environment:
#   AGG_CACHE_DIR   where the Kafka jars go (default $HOME/.cache/agg-pipeline)
#
# Prints the Kafka libs folder with `scripts/deps.sh --kafka-libs` (no installing).
# `scripts/deps.sh --fuzz` installs what `make fuzz` needs instead: the build
# dependencies above plus clang and its sanitizer/libFuzzer runtime; no Kafka jars,
# since the fuzzers need no broker.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=3.9.1
CACHE_DIR=${AGG_CACHE_DIR:-${HOME:-$ROOT/build}/.cache/agg-pipeline}
KAFKA_HOME=$CACHE_DIR/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_HOME/libs
# Written last, after every jar is in place: a folder without it is a half download.
# It holds the checksum of the pom, so changing the dependency list refetches.
KAFKA_MARKER=$KAFKA_HOME/.complete
POM=$ROOT/scripts/kafka/pom.xml

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

if [[ ${1:-} == --kafka-libs ]]; then
    echo "$KAFKA_LIBS"
    exit 0
fi
FUZZ=0
if [[ ${1:-} == --fuzz ]]; then
    FUZZ=1
fi

# --- Debian packages ---------------------------------------------------------------

# Installed for real ("install ok installed"), not merely known to dpkg (removed
# packages keep a "deinstall ... config-files" entry). One dpkg-query for all of them.
missing_pkgs() {
    local status
    status=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true)
    local p
    for p in "$@"; do
        grep -qx "$p install ok installed" <<<"$status" || echo "$p"
    done
}

want=()
# The compiler: any working cc/gcc will do (a developer may have their own); Debian's
# gcc package alone lacks the C library headers, hence libc6-dev.
if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    want+=(gcc libc6-dev)
fi
command -v make >/dev/null 2>&1 || want+=(make)
# Libraries and tools the Makefile, tests and stack.sh use. kcat is the name since
# Debian 12 (kafkacat is a transitional package there); either command is accepted.
while read -r p; do want+=("$p"); done < <(missing_pkgs \
    librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libhiredis-dev \
    libzip-dev libxml2-dev redis-server redis-tools pkg-config libmicrohttpd-dev \
    libjansson-dev libssl-dev chromium python3-prometheus-client python3-websocket curl)
if ! command -v kcat >/dev/null 2>&1 && ! command -v kafkacat >/dev/null 2>&1; then
    want+=(kcat)
fi
# The broker needs Java 11 or later; take whatever java is on PATH if it is new enough.
java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local v
    v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [[ -n $v && $v -ge 11 ]]
}
if ((FUZZ)); then
    # Debian 12's clang is clang 14; its libFuzzer and sanitizer runtimes are a
    # separate package that --no-install-recommends would leave out.
    while read -r p; do want+=("$p"); done < <(missing_pkgs clang libclang-rt-14-dev)
else
    java_ok || want+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null 2>&1 || want+=(maven)
fi

if ((${#want[@]})); then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "missing packages (${want[*]}) and not root, no sudo"
        # -n: never wait for a password (CI has no stdin); fail with a message instead.
        SUDO=(sudo -n)
    fi
    say "installing Debian packages: ${want[*]}"
    log=$(mktemp "${TMPDIR:-/tmp}/agg-deps-apt.XXXXXX")
    export DEBIAN_FRONTEND=noninteractive
    # kcat is only in Debian 12+; on an older release fall back to kafkacat.
    if ! "${SUDO[@]}" apt-get update -q >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "apt-get update failed (full log: $log)"
    fi
    for i in "${!want[@]}"; do
        if [[ ${want[$i]} == kcat ]] && ! apt-cache show kcat >/dev/null 2>&1; then
            want[i]=kafkacat
        fi
    done
    # --no-install-recommends keeps a CI machine's install small and fast; everything
    # the project needs is named above explicitly.
    # Lock::Timeout: wait for another apt/dpkg (e.g. a parallel run) instead of failing.
    if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
            "${want[@]}" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "apt-get install ${want[*]} failed (full log: $log)"
    fi
    rm -f "$log"
    # The packaged redis-server starts a system service on the default port 6379; the
    # project runs its own instance (scripts/stack.sh) and does not need that one. It is
    # left as installed: stopping a system service is the machine owner's call.
    ((FUZZ)) || java_ok ||
        die "java is still missing or older than 11 after installing openjdk-17-jre-headless"
fi
((FUZZ)) && exit 0

# --- Kafka broker jars ------------------------------------------------------------

pom_sum=$(sha256sum "$POM" | cut -d' ' -f1)
jars_ok() { [[ -f $KAFKA_MARKER && $(<"$KAFKA_MARKER") == "$pom_sum" && -d $KAFKA_LIBS ]]; }
jars_ok && exit 0

# One download at a time (two checkouts or parallel make targets share the cache);
# whoever waited finds the jars there and stops.
mkdir -p "$KAFKA_HOME"
exec 8>"$KAFKA_HOME/.lock"
flock -w 600 8 || die "could not lock $KAFKA_HOME/.lock within 600 s"
jars_ok && exit 0

say "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIBS"
rm -rf "$KAFKA_LIBS" "$KAFKA_MARKER"
tmp=$(mktemp -d "$KAFKA_HOME/libs.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp.log
# -B: no progress bars; style.color=never: no escape codes in logs. The pom packages
# nothing, so Maven writes nothing next to it (no target/ in the source tree).
if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "Maven could not fetch the Kafka jars (full log: $log)"
fi
ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar "$tmp"/kafka-tools-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
    || die "Maven finished but the Kafka jars are not in $tmp (log: $log)"
rm -f "$log"
mv "$tmp" "$KAFKA_LIBS"
trap - EXIT
echo "$pom_sum" >"$KAFKA_MARKER"
say "Kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name "*.jar" | wc -l) jars"
