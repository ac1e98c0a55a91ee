#!/usr/bin/env bash
# timeout: 120
#
# A reject the DLQ cannot take whole (hardening, item 3): a 1.5 MB message on a quarter
# topic that allows it, while the DLQ topic keeps the broker's 1 MB default. The worker
# sends it to the DLQ cut to --dlq-max-bytes (900000, key + value), with headers
# original_length, original_key_length and original_sha256 (of the whole value), moves
# on, and applies the valid row behind it; nothing stalls.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
"$ROOT/scripts/stack.sh" topics --create --topic "$TOPIC" --partitions 1 --replication-factor 1 \
    --config max.message.bytes=3000000 >/dev/null
head -c 1500000 /dev/urandom >"$TEST_DIR/big.bin"
want_sha=$(sha256sum "$TEST_DIR/big.bin" | cut -d' ' -f1)
kc -P -t "$TOPIC" -p 0 -k khovd -X message.max.bytes=3000000 "$TEST_DIR/big.bin"
printf 'region,year,quarter,goal,indicator,completion,submitted_at\nkhovd,2024,3,3,3.1.1,100,2024-10-01T00:00:00Z\n' >"$TEST_DIR/ok.csv"
publish "$TEST_DIR/ok.csv"

start_worker worker
wait_applied "$TOPIC" 2 60
deadline=$(($(date +%s) + 30))
while (($(topic_count "$DLQ_TOPIC") < 1)) && (($(date +%s) < deadline)); do sleep 0.3; done
kc -C -t "$DLQ_TOPIC" -o beginning -e -q -f '%S %K %h\n' >"$TEST_DIR/dlq.txt" 2>/dev/null || true
log "DLQ: $(cut -c1-300 "$TEST_DIR/dlq.txt")"
expect_eq "DLQ entries" 1 "$(wc -l <"$TEST_DIR/dlq.txt")"
read -r vsize ksize headers <"$TEST_DIR/dlq.txt"
expect_eq "kept value bytes (900000 - key)" 899995 "$vsize"
expect_eq "kept key bytes" 5 "$ksize"
[[ $headers == *"original_length=1500000"* ]] || mismatch "no original_length=1500000: $headers"
[[ $headers == *"original_key_length=5"* ]] || mismatch "no original_key_length=5: $headers"
[[ $headers == *"original_sha256=$want_sha"* ]] || mismatch "original_sha256 is not the value's SHA-256 ($want_sha): $headers"
[[ $headers == *"source_offset=0"* ]] || mismatch "no source_offset=0: $headers"
grep -q 'dlq_truncated' "$TEST_DIR/worker.log" || mismatch "no dlq_truncated in the log"
hash_equals "$KEY_PREFIX:$Q:total" "indicators=1 assessed=1 completion_sum_x100=10000 completion_avg=100.00 met=1 partial=0 unmet=0"
assert_all_passed
