#!/usr/bin/env bash
# timeout: 120
#
# Deadline close (SPEC 8): two workers, the quarter's deadline set a few seconds ahead
# (--deadlines Q=TIME, 15 s ahead, the same on both). When it passes, one worker -- the one that
# takes the quarter's lock in Redis -- writes the close markers (requested_by
# "deadline"), exactly once: the topic holds the rows and 6 markers, not 12. The
# quarter then closes as for any marker, and timeliness is judged against that
# deadline: a region whose first row was submitted after it is late.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q1
D=$TEST_DIR
now=$(date +%s)
deadline_s=$((now + 15))
deadline_iso=$(date -u -d "@$deadline_s" +%Y-%m-%dT%H:%M:%SZ)
before=$(date -u -d "@$((now - 3600))" +%Y-%m-%dT%H:%M:%SZ)
after=$(date -u -d "@$((now + 3600))" +%Y-%m-%dT%H:%M:%SZ)
cat >"$D/rows.csv" <<CSV
region,year,quarter,goal,indicator,unit,completion,submitted_at
dornod,2024,1,3,3.1.1,count,100,$before
sukhbaatar,2024,1,3,3.1.1,count,40,$before
uvs,2024,1,3,3.1.1,count,70,$after
CSV
publish "$D/rows.csv"
WORKER_OPTS=(--deadlines "$Q=$deadline_iso" --offset-check-ms 300)
DEADLINE_CLOSE=1 start_worker w1 "${WORKER_OPTS[@]}"
DEADLINE_CLOSE=1 start_worker w2 "${WORKER_OPTS[@]}"
TOPIC=${TOPIC_PREFIX}$Q
wait_applied "$TOPIC" 3 60
expect_eq "status before the deadline" open "$(rcli HGET "$KEY_PREFIX:$Q:state" status)"
log "rows applied; deadline $deadline_iso"

wait_summaries "$Q" 4 60
log "closed at the deadline: summaries on the topic $(($(date +%s) - deadline_s)) s after it"
expect_eq "messages on $TOPIC (3 rows + 6 markers, written once)" 9 "$(topic_count "$TOPIC")"
P=$KEY_PREFIX:$Q
expect_eq "status" closed "$(rcli HGET "$P:state" status)"
expect_eq "requested_by" deadline "$(rcli HGET "$P:state" requested_by)"
expect_eq "deadline_ms" "${deadline_s}000" "$(rcli HGET "$P:state" deadline_ms)"
[[ -n $(rcli HGET "$P:state" deadline_markers_ms) ]] || mismatch "deadline_markers_ms not recorded"
expect_eq "workers that wrote markers" 1 "$(grep -h 'deadline_close quarter=' "$D"/w1.log "$D"/w2.log | wc -l)"
summaries "$Q" >"$D/summaries.json"
python3 - "$D/summaries.json" "${deadline_s}000" <<'PY' || mismatch "summary contents differ"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
total = [x for x in s if x["scope"] == "total"][0]
want = {"regions_reported": 3, "regions_on_time": 2, "regions_late": ["uvs"],
        "deadline_ms": int(sys.argv[2]), "revision": 1, "reporting_rate": "10.00",
        "on_time_rate": "6.67"}
bad = [(k, total.get(k), v) for k, v in want.items() if total.get(k) != v]
# dornod 100, sukhbaatar 40, uvs 70: sum 21000 / 3 = 70.00
if total["totals"].get("completion_avg") != "70.00":
    bad.append(("completion_avg", total["totals"].get("completion_avg"), "70.00"))
for b in bad:
    print("total %s: got %r, want %r" % b)
sys.exit(1 if bad else 0)
PY
assert_all_passed
