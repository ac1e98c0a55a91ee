#!/usr/bin/env bash
# The whole pipeline on the sample reports, end to end, on the local stack:
#   1. scripts/stack.sh up (Kafka + Redis on loopback),
#   2. agg-produce samples/*.csv (the corrections file last) to topics "demo.YYYY-Qn",
#   3. agg-worker until it is idle for 3 s, keys under "demo:",
#   4. a readable report from Redis: per quarter the national total, then per region
#      and per goal, and the ranking of the regions in each goal,
#   5. agg-produce close for each quarter, the worker again until idle (it closes the
#      quarter and sends the summaries), then agg-summaries prints them,
#   6. agg-dashboard on the demo keys, left running in the background; prints its URL.
#
# Uses its own topic prefix, key prefix and consumer group, so it never touches other
# data; running it again is harmless (the same revisions change nothing).
#
# Environment: AGG_BIN (bin), DEMO_PREFIX (demo), DEMO_DASHBOARD_LISTEN (127.0.0.1:18080).
set -euo pipefail
export LC_ALL=C.UTF-8 # ${#s} counts characters: names like Khövsgöl stay aligned

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${AGG_BIN:-bin}
NAME=${DEMO_PREFIX:-demo}
TOPIC_PREFIX=$NAME.
KEY_PREFIX=$NAME
GROUP=$NAME-worker

for b in agg-produce agg-worker agg-summaries agg-dashboard; do
    [[ -x $BIN/$b ]] || { echo "demo: $BIN/$b missing; run make first" >&2; exit 1; }
done

scripts/stack.sh up >/dev/null
set -a
. build/stack.env
set +a
R=(redis-cli -h "$AGG_REDIS_HOST" -p "$AGG_REDIS_PORT" --raw)

# Sample files in name order, corrections last (they carry higher revisions).
files=() late=()
for f in samples/*.csv; do # glob order is sorted
    [[ -f $f ]] || continue
    if [[ $f == *corrections* ]]; then late+=("$f"); else files+=("$f"); fi
done
files+=("${late[@]}")
((${#files[@]})) || { echo "demo: no samples/*.csv" >&2; exit 1; }

echo "== 1. publishing ${#files[@]} report files to $AGG_KAFKA_BOOTSTRAP (topics $TOPIC_PREFIX*)"
for f in "${files[@]}"; do
    printf '   %s\n' "$f"
    "$BIN/agg-produce" -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "$TOPIC_PREFIX" -q "$f"
done

echo "== 2. applying them with agg-worker (group $GROUP, keys $KEY_PREFIX:*), until idle for 3 s"
"$BIN/agg-worker" -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
    --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" \
    --exit-idle-ms 3000 --no-deadline-close -q

# --- the report ---------------------------------------------------------------------------

# x100 integer -> decimal with 2 digits and thousands separators ("-" when absent):
# 1234567 -> 12,345.67
dec() {
    local v=${1:-} sign='' whole='' out=''
    [[ -n $v ]] || { echo -; return; }
    [[ $v == -* ]] && { sign=-; v=${v#-}; }
    v=$(printf '%03d' "$((10#$v))")
    whole=${v:0:${#v}-2}
    while ((${#whole} > 3)); do
        out=,${whole: -3}$out
        whole=${whole:0:${#whole}-3}
    done
    echo "$sign$whole$out.${v: -2}"
}

# pad TEXT WIDTH: left-aligned in WIDTH characters (printf pads bytes), cut if longer.
pad() {
    local s=${1:0:$2}
    printf '%s%*s' "$s" $(($2 - ${#s})) ''
}

# hfields KEY: the hash as "field=value" lines, in the variables of an assoc array H.
declare -A H
load() {
    H=()
    local f v
    while IFS= read -r f && IFS= read -r v; do H[$f]=$v; done < <("${R[@]}" HGETALL "$1")
}

name_of() { # CSV FILE, CODE, COLUMN -> value
    awk -F, -v c="$2" -v col="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
        $1 == c { print $k; exit }' "$1"
}

row() { # LABEL NAME KEY: one line of the table from the scope hash KEY
    load "$3"
    printf '%-20s %s %5s %5s %7s %4s %4s %4s %20s %20s\n' "$1" "$(pad "$2" 26)" \
        "${H[indicators]:-0}" "${H[assessed]:-0}" "${H[completion_avg]:--}" \
        "${H[met]:-0}" "${H[partial]:-0}" "${H[unmet]:-0}" \
        "$(dec "${H[target_x100:mnt]:-}")" "$(dec "${H[achieved_x100:mnt]:-}")"
}

header() {
    printf '%-20s %-26s %5s %5s %7s %4s %4s %4s %20s %20s\n' "$1" "" rows asses "avg %" met part unmt \
        "target MNT" "achieved MNT"
}

mapfile -t quarters < <("${R[@]}" ZRANGE "$KEY_PREFIX:quarters" 0 -1)
((${#quarters[@]})) || { echo "demo: nothing in $KEY_PREFIX:quarters; see the worker's messages above" >&2; exit 1; }

for q in "${quarters[@]}"; do
    P=$KEY_PREFIX:$q
    echo
    echo "== 3. quarter $q ($("${R[@]}" HGET "$P:state" status))"
    echo
    header ""
    row "TOTAL" "all regions, all goals" "$P:total"
    echo
    header REGION
    mapfile -t regions < <("${R[@]}" ZRANGE "$P:regions" 0 -1)
    for r in $(printf '%s\n' "${regions[@]}" | sort); do
        row "$r" "$(name_of reference/regions.csv "$r" name_en)" "$P:region:$r"
    done
    echo
    header GOAL
    mapfile -t goals < <("${R[@]}" SMEMBERS "$P:goals" | sort -V)
    for g in "${goals[@]}"; do
        row "$g" "$(name_of reference/goals.csv "$g" title_en)" "$P:goal:$g"
    done
    echo
    echo "ranking per goal (completion average of the region in that goal, best first):"
    for g in "${goals[@]}"; do
        line=$("${R[@]}" ZREVRANGE "$P:rank:goal:$g" 0 -1 WITHSCORES | paste - - |
            awk '{ printf "%s%d. %s %s", (NR > 1 ? "   " : ""), NR, $1, sprintf("%.2f", $2 / 100) }')
        printf '  goal %-5s %s\n' "$g" "${line:-(nothing assessed)}"
    done
    echo
    echo "last report per region (submitted_at):"
    "${R[@]}" ZRANGE "$P:regions" 0 -1 WITHSCORES | paste - - | while read -r r ms; do
        printf '  %-20s %s\n' "$r" "$(date -u -d "@$((ms / 1000))" '+%Y-%m-%d %H:%M UTC')"
    done
done

echo
echo "== 4. closing ${quarters[*]} (agg-produce close), then the worker again until idle"
for q in "${quarters[@]}"; do
    "$BIN/agg-produce" close --quarter "$q" --by demo -b "$AGG_KAFKA_BOOTSTRAP" \
        --topic-prefix "$TOPIC_PREFIX" -q
done
"$BIN/agg-worker" -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
    --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" \
    --exit-idle-ms 3000 --no-deadline-close -q
for q in "${quarters[@]}"; do
    P=$KEY_PREFIX:$q
    load "$P:state"
    echo
    echo "== 5. $q is ${H[status]:-?}: summary revision ${H[summary_revision]:-?}, ${H[regions_reported]:-0} of ${H[regions_expected]:-0} regions reported (${H[reporting_rate]:-?} %), ${H[regions_on_time]:-0} on time; summaries from ${TOPIC_PREFIX}summaries:"
    echo
    "$BIN/agg-summaries" -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "$TOPIC_PREFIX" --quarter "$q"
done

cat <<EOF

== 6. look at the keys yourself:
   redis-cli -h $AGG_REDIS_HOST -p $AGG_REDIS_PORT --scan --pattern '$KEY_PREFIX:*' | grep -v ':internal:'
   redis-cli -h $AGG_REDIS_HOST -p $AGG_REDIS_PORT HGETALL $KEY_PREFIX:${quarters[0]}:total
   redis-cli -h $AGG_REDIS_HOST -p $AGG_REDIS_PORT ZREVRANGE $KEY_PREFIX:${quarters[0]}:rank:goal:6.2 0 -1 WITHSCORES
   redis-cli -h $AGG_REDIS_HOST -p $AGG_REDIS_PORT HGETALL $KEY_PREFIX:${quarters[0]}:state
   bin/agg-summaries -b $AGG_KAFKA_BOOTSTRAP --topic-prefix $TOPIC_PREFIX --quarter ${quarters[0]} --json
   (keys under $KEY_PREFIX:internal: are the worker's own state, not for readers)
EOF

# --- the dashboard ----------------------------------------------------------------------
LISTEN=${DEMO_DASHBOARD_LISTEN:-127.0.0.1:18080}
PIDF=build/demo-dashboard.pid
if [[ -f $PIDF ]] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
    kill "$(cat "$PIDF")" # the one a previous demo left running
    sleep 0.5
fi
setsid "$BIN/agg-dashboard" --listen "$LISTEN" --redis-url "$AGG_REDIS_URL" \
    --key-prefix "$KEY_PREFIX" >build/demo-dashboard.log 2>&1 </dev/null &
echo $! >"$PIDF"
for _ in $(seq 50); do
    curl -fsS -m 1 "http://$LISTEN/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS -m 1 "http://$LISTEN/healthz" >/dev/null 2>&1 ||
    { echo "demo: agg-dashboard did not start (build/demo-dashboard.log):" >&2; tail -n 5 build/demo-dashboard.log >&2; exit 1; }
echo
echo "== 7. the head-office dashboard: http://$LISTEN/"
echo "   (running in the background; stop it with: kill \$(cat $PIDF))"
