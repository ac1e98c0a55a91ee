#!/usr/bin/env bash
# sanitizer: yes
#
# Bad input never stops a partition (SPEC 7): messages written straight to a
# one-partition quarter topic with agg-encode + kcat, valid ones mixed with garbage
# bytes, an unknown region, a completion out of range, a record of another quarter, a
# key that is not the region and an unsupported schema_version. Every bad message lands
# in the DLQ with its original key and bytes and headers naming where it came from and
# why; the aggregates hold exactly the valid records; the stored offsets count every
# message; the worker stays up and applies a later valid record.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
P=$KEY_PREFIX:$Q
D=$TEST_DIR
ENC=$AGG_BIN/agg-encode

create_topic "$TOPIC" 1

# send NAME KEY ENCODE-ARGS...: encodes one envelope into $D/NAME.bin and appends it to
# partition 0 of the topic (one kcat call per message keeps them in order).
send() {
    local name=$1 key=$2
    shift 2
    "$ENC" "$@" >"$D/$name.bin"
    kc -P -t "$TOPIC" -p 0 -k "$key" "$D/$name.bin"
}
ok_ark=(region=arkhangai year=2024 quarter=3 goal=3 indicator=3.1.1 unit=0
    target=1000 achieved=500 completion=5000 revision=1 submitted_ms=1720000000000)

log "writing 9 messages to $TOPIC partition 0"
send m0-valid arkhangai "${ok_ark[@]}"
send m1-garbage arkhangai --garbage
send m2-region atlantis region=atlantis year=2024 quarter=3 goal=3 indicator=3.1.1 unit=0 \
    target=100 achieved=100 completion=10000 revision=1 submitted_ms=1720000000000
send m3-valid bulgan region=bulgan year=2024 quarter=3 goal=3 indicator=3.1.1 unit=2 \
    target=250000 achieved=260000 completion=10400 revision=1 submitted_ms=1720000001000
send m4-completion arkhangai region=arkhangai year=2024 quarter=3 goal=3 indicator=3.1.2 \
    unit=0 target=100 achieved=100 completion=200000 revision=1 submitted_ms=1720000009000
send m5-quarter arkhangai region=arkhangai year=2024 quarter=2 goal=3 indicator=3.1.3 \
    unit=0 target=100 achieved=100 completion=10000 revision=1 submitted_ms=1720000000000
send m6-key arkhangai region=bulgan year=2024 quarter=3 goal=3 indicator=3.1.4 unit=0 \
    target=100 achieved=100 completion=10000 revision=1 submitted_ms=1720000000000
send m7-schema arkhangai region=arkhangai year=2024 quarter=3 goal=3 indicator=3.1.5 \
    unit=0 target=100 achieved=100 completion=10000 revision=1 submitted_ms=1720000000000 \
    schema_version=2
send m8-valid arkhangai region=arkhangai year=2024 quarter=3 goal=6.1 indicator=6.1.1 unit=1 \
    target=2000 achieved=1500 completion=7500 revision=1 submitted_ms=1720000002000
expect_eq "messages on $TOPIC" 9 "$(topic_count "$TOPIC")"

log "starting a worker (runs until the end of the test)"
start_worker worker
wait_applied "$TOPIC" 9 60

# The DLQ is written by the worker's producer; wait (bounded) until all 6 arrived.
deadline=$(($(date +%s) + 30))
while (($(topic_count "$DLQ_TOPIC") < 6)) && (($(date +%s) < deadline)); do sleep 0.5; done
kc -C -t "$DLQ_TOPIC" -o beginning -e -q -J >"$D/dlq.json" 2>"$D/dlq.err" || true

# One line per DLQ message, sorted by source offset:
#   SOURCE_OFFSET KEY SOURCE_TOPIC SOURCE_PARTITION DLQ_PARTITION DLQ_OFFSET REASON
python3 - "$D/dlq.json" >"$D/dlq.txt" <<'EOF'
import json, sys
rows = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    h = m.get("headers") or []
    if isinstance(h, list):
        h = dict(zip(h[0::2], h[1::2]))
    rows.append((int(h.get("source_offset", -1)), m.get("key"), h.get("source_topic"),
                 h.get("source_partition"), m["partition"], m["offset"], h.get("reason", "")))
for r in sorted(rows):
    print(*r[:6], r[6])
EOF
log "DLQ entries (source_offset key source_topic source_partition dlq_partition dlq_offset reason):"
sed 's/^/    /' "$D/dlq.txt"

expect_eq "DLQ message count" 6 "$(wc -l <"$D/dlq.txt")"
expect_eq "DLQ source offsets" "1 2 4 5 6 7" "$(awk '{print $1}' "$D/dlq.txt" | xargs)"
expect_eq "DLQ keys" "arkhangai atlantis arkhangai arkhangai arkhangai arkhangai" \
    "$(awk '{print $2}' "$D/dlq.txt" | xargs)"
expect_eq "DLQ source topics" "$(printf "$TOPIC %.0s" 1 2 3 4 5 6 | xargs)" \
    "$(awk '{print $3}' "$D/dlq.txt" | xargs)"
expect_eq "DLQ source partitions" "0 0 0 0 0 0" "$(awk '{print $4}' "$D/dlq.txt" | xargs)"
reason() { awk -v o="$1" '$1 == o { $1 = $2 = $3 = $4 = $5 = $6 = ""; sub(/^ +/, ""); print }' "$D/dlq.txt"; }
check_reason() {
    local off=$1 pattern=$2 r
    r=$(reason "$off")
    [[ $r =~ $pattern ]] || mismatch "DLQ reason of source offset $off: '$r' does not match /$pattern/"
}
check_reason 1 '^undecodable'
check_reason 2 '^invalid field region: unknown region'
check_reason 4 '^invalid field completion:'
check_reason 5 '^quarter mismatch:'
check_reason 6 '^key mismatch:'
check_reason 7 '[Ss]chema'

# The original bytes, exactly: the garbage message and the schema_version=2 one.
for pair in 1:m1-garbage 7:m7-schema; do
    off=${pair%%:*} name=${pair#*:}
    read -r dp dofs < <(awk -v o="$off" '$1 == o {print $5, $6}' "$D/dlq.txt")
    if [[ -z ${dp:-} ]]; then
        mismatch "no DLQ entry for source offset $off"
        continue
    fi
    kc -C -t "$DLQ_TOPIC" -p "$dp" -o "$dofs" -c 1 -e -q -f '%s' >"$D/dlq-$name.bin" 2>/dev/null || true
    cmp -s "$D/$name.bin" "$D/dlq-$name.bin" ||
        mismatch "DLQ value of source offset $off differs from the original bytes ($(stat -c %s "$D/$name.bin") vs $(stat -c %s "$D/dlq-$name.bin") bytes)"
done

# Aggregates = the three valid records only:
#   arkhangai 3.1.1 g3   count  T 1000   A 500    c 5000  partial  2024-07-03T09:46:40Z
#   bulgan    3.1.1 g3   mnt    T 250000 A 260000 c 10400 met      2024-07-03T09:46:41Z
#   arkhangai 6.1.1 g6.1 person T 2000   A 1500   c 7500  partial  2024-07-03T09:46:42Z
# total 5000 + 10000 + 7500 = 22500 / 3 = 75.00
hash_equals "$P:total" "indicators=3 assessed=3 completion_sum_x100=22500 completion_avg=75.00
    met=1 partial=2 unmet=0 target_x100:count=1000 achieved_x100:count=500
    target_x100:mnt=250000 achieved_x100:mnt=260000
    target_x100:person=2000 achieved_x100:person=1500"
# arkhangai: 5000 + 7500 = 12500 / 2 = 62.50
hash_equals "$P:region:arkhangai" "indicators=2 assessed=2 completion_sum_x100=12500
    completion_avg=62.50 met=0 partial=2 unmet=0 target_x100:count=1000
    achieved_x100:count=500 target_x100:person=2000 achieved_x100:person=1500"
# Invalid records do not count as submissions (m4's later time must not show).
zset_equals "$P:regions" "arkhangai=1720000002000 bulgan=1720000001000"
set_equals "$P:goals" "3 6.1"
key_absent "$P:region:atlantis"
key_absent "$KEY_PREFIX:2024-Q2:total"

cat >"$D/valid-1.csv" <<'EOF'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2024,3,3,3.1.1,count,10,5,50,1,2024-07-03T09:46:40.000Z
bulgan,2024,3,3,3.1.1,mnt,2500,2600,104,1,2024-07-03T09:46:41.000Z
arkhangai,2024,3,6.1,6.1.1,person,20,15,75,1,2024-07-03T09:46:42.000Z
EOF
reference "$D/valid-1.csv" || mismatch "reference.py: aggregates are not those of the valid records"

# The worker is still there and goes on with the partition.
alive "$WORKER_PID" || fail "worker exited after the bad messages (see $TEST_DIR/worker.log)"
log "a later valid record (offset 9)"
send m9-valid ub-bayangol region=ub-bayangol year=2024 quarter=3 goal=6.1 indicator=6.1.1 \
    unit=3 target=9000 achieved=9500 completion=10556 revision=1 submitted_ms=1720000003000
wait_applied "$TOPIC" 10 60
# + ub-bayangol pct (not summed), c 10556 -> 10000 met: 32500 / 4 = 81.25
hash_equals "$P:total" "indicators=4 assessed=4 completion_sum_x100=32500 completion_avg=81.25
    met=2 partial=2 unmet=0 target_x100:count=1000 achieved_x100:count=500
    target_x100:mnt=250000 achieved_x100:mnt=260000
    target_x100:person=2000 achieved_x100:person=1500"
cat >"$D/valid-2.csv" <<'EOF'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
ub-bayangol,2024,3,6.1,6.1.1,pct,90,95,105.56,1,2024-07-03T09:46:43.000Z
EOF
reference "$D/valid-1.csv" "$D/valid-2.csv" || mismatch "reference.py after the later record"
expect_eq "DLQ message count at the end" 6 "$(topic_count "$DLQ_TOPIC")"
alive "$WORKER_PID" || fail "worker exited"

assert_all_passed
