#!/usr/bin/env bash
# timeout: 120
#
# Late records under --late-policy reject (SPEC 8): the quarter closes on the records
# before the markers; the rows after them go to the DLQ with reason quarter-closed, the
# aggregates stay as closed, and no amendment follows. A replay under the same policy
# (either path) refuses them again and equals the live keys.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q3
D=$TEST_DIR
cat >"$D/base.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,submitted_at
khovd,2024,3,3,3.1.1,count,10,10,100,2024-10-01T00:00:00Z
orkhon,2024,3,3,3.1.1,count,10,5,50,2024-10-02T00:00:00Z
CSV
cat >"$D/late.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
orkhon,2024,3,3,3.1.1,count,10,10,100,2,2024-10-20T00:00:00Z
khovd,2024,3,3,3.1.2,count,1,1,100,1,2024-10-21T00:00:00Z
CSV
publish "$D/base.csv"
close_quarter "$Q" || fail "close failed"
publish "$D/late.csv"
start_worker worker --late-policy reject --amend-quiet-ms 500 --offset-check-ms 200

wait_summaries "$Q" 3 60
TOPIC=${TOPIC_PREFIX}$Q
wait_applied "$TOPIC" $((2 + 6 + 2)) 30
deadline=$(($(date +%s) + 30))
while (($(topic_count "$DLQ_TOPIC") < 2)) && (($(date +%s) < deadline)); do sleep 0.3; done
kc -C -t "$DLQ_TOPIC" -o beginning -e -q -f '%k %h\n' >"$D/dlq.txt" 2>/dev/null || true
log "DLQ: $(cat "$D/dlq.txt")"
expect_eq "DLQ entries" 2 "$(wc -l <"$D/dlq.txt")"
expect_eq "DLQ keys" "khovd orkhon" "$(awk '{print $1}' "$D/dlq.txt" | sort | xargs)"
expect_eq "DLQ reasons quarter-closed" 2 \
    "$(grep -c "reason=quarter-closed: $Q is closed and the late-record policy is reject" "$D/dlq.txt")"

# Give an amendment every chance to (wrongly) happen: quiet time 0.5 s, checks 5/s.
sleep 2
summaries "$Q" >"$D/summaries.json"
expect_eq "summaries (revision 1 only)" 3 "$(wc -l <"$D/summaries.json")"
expect_eq "revisions" "1 1 1" "$(python3 -c 'import json,sys; print(*[json.loads(l)["revision"] for l in open(sys.argv[1])])' "$D/summaries.json")"
P=$KEY_PREFIX:$Q
# As closed: khovd 100 (met), orkhon 50 (partial): sum 15000 / 2 -> 75.00
hash_equals "$P:total" "indicators=2 assessed=2 completion_sum_x100=15000 completion_avg=75.00
    met=1 partial=1 unmet=0 target_x100:count=2000 achieved_x100:count=1500"
expect_eq "summary total completion_avg" "75.00" \
    "$(python3 -c 'import json,sys; print([s for s in map(json.loads, open(sys.argv[1])) if s["scope"] == "total"][0]["totals"]["completion_avg"])' "$D/summaries.json")"
expect_eq "state summary_revision" 1 "$(rcli HGET "$P:state" summary_revision)"
expect_eq "state late_pending" "" "$(rcli HGET "$P:state" late_pending)"
reference --closed "$Q" "$D/base.csv" || mismatch "reference.py: the aggregates moved after the close"

# A replay under the same policy, by either path: the late rows are refused again (not
# sent again), the recomputation equals the live keys, its close point is revision 1.
for path in memory batches; do
    rc=0
    "$AGG_BIN/agg-worker" replay -b "$AGG_KAFKA_BOOTSTRAP" --redis-url "$AGG_REDIS_URL" \
        --group "$GROUP" --topic-prefix "$TOPIC_PREFIX" --key-prefix "$KEY_PREFIX" \
        --late-policy reject --quarter "$Q" --verify --json --replay-path "$path" \
        >"$D/replay-$path.json" 2>"$D/replay-$path.err" || rc=$?
    expect_eq "replay ($path): exit" 0 "$rc"
    expect_eq "replay ($path): rejects, path, close point" "2 $path identical to revision 1" \
        "$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d["rejects"], d["path"], d["close_point"])' "$D/replay-$path.json")"
done
assert_all_passed
