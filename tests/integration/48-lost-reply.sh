#!/usr/bin/env bash
# timeout: 90
# sanitizer: yes
#
# A lost reply after a successful script (hardening, item 8): the worker's first batch
# is applied by Redis, its reply arrives, and the connection is dropped as if the reply
# had been lost (test hook AGG_TEST_DROP_REPLY). The retry must be recognised as "our
# own attempt landed" (refused as fenced with stored = the batch's end), not applied a
# second time and not counted as a zombie: totals exact, no batch_fenced, one
# batch_already_applied. One partition holds all 30 regions, so one batch has more than
# 127 scopes and the scope table grows inside a record's four scopes (a rehash there
# once left pointers dangling: this test found it).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
TOPIC=${TOPIC_PREFIX}$Q
create_topic "$TOPIC" 1
gen_data 400 48 "$Q"
count_data "$TEST_DIR/data/wave-1.csv"
publish "$TEST_DIR/data/wave-1.csv"
AGG_TEST_DROP_REPLY=1 start_worker worker
wait_applied "$TOPIC" "$DATA_TOTAL" 60
sleep 0.5
expect_eq "replies dropped by the hook" 1 "$(grep -c 'test_reply_dropped' "$TEST_DIR/worker.log")"
expect_eq "batches recognised as already applied" 1 "$(grep -c 'batch_already_applied' "$TEST_DIR/worker.log")"
expect_eq "batches fenced" 0 "$(grep -c 'batch_fenced' "$TEST_DIR/worker.log" || true)"
reference "$TEST_DIR/data/wave-1.csv" || mismatch "reference.py: a batch was applied twice or not at all"
assert_all_passed
