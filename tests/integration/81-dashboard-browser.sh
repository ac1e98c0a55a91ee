#!/usr/bin/env bash
# timeout: 180
#
# The page in a real browser (headless Chromium, tests/browser.py) on the real pipeline:
# reports published with agg-produce, applied by agg-worker, shown by agg-dashboard. The
# numbers in the DOM must equal the Redis values (and the hand-computed ones); then a
# correction is published and the open page must show the new figures without a reload.
# Drill-down per goal and per region; screenshots (laptop and phone) in build/.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/dashboard.sh"

Q=2024-Q2
TOPIC=${TOPIC_PREFIX}$Q
P=$KEY_PREFIX:$Q
cat >"$TEST_DIR/1.csv" <<'EOF2'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2024,2,3,3.1.1,mnt,1500000,1200000,80,1,2024-07-05T10:00:00Z
bulgan,2024,2,3,3.1.1,mnt,300000,300000,100,1,2024-07-04T09:00:00Z
bulgan,2024,2,6.1,6.1.1,count,40,20,50,1,2024-07-04T09:00:00Z
EOF2
# arkhangai's 3.1.1, revision 2: achieved 1,350,000, completion 90
cat >"$TEST_DIR/2-correction.csv" <<'EOF2'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2024,2,3,3.1.1,mnt,1500000,1350000,90,2,2024-07-08T10:00:00Z
EOF2

produce "$TEST_DIR/1.csv"
start_worker worker --metrics-interval-ms 300
wait_applied "$TOPIC" 3 90
start_dashboard dash --redis-url "$AGG_REDIS_URL" --poll-ms 500

# (80 + 100 + 50) / 3 = 76.67, met 1 (bulgan 3.1.1), partial 2; goal 3: (80 + 100) / 2
# = 90.00; mnt achieved 1,200,000 + 300,000 of 1,500,000 + 300,000. After the
# correction: (90 + 100 + 50) / 3 = 80.00, achieved 1,350,000 + 300,000.
expect_eq "Redis total" 76.67 "$(rcli HGET "$P:total" completion_avg)"

text() { printf "document.querySelector('%s').textContent" "$1"; }
cell() { text "td[data-region=\"$1\"][data-goal=\"$2\"]"; }
loaded="wait:document.body.getAttribute('data-loaded') === '$Q'"
correct="run:$AGG_BIN/agg-produce -b $AGG_KAFKA_BOOTSTRAP --topic-prefix $TOPIC_PREFIX -q $TEST_DIR/2-correction.csv"

# What Redis holds before the correction, to compare the page with.
redis_cells="[\"$(rcli HGET "$P:region:arkhangai:goal:3" completion_avg)\",\"$(rcli HGET "$P:region:bulgan:goal:3" completion_avg)\",\"$(rcli HGET "$P:region:bulgan:goal:6.1" completion_avg)\",\"\"]"
/usr/bin/python3 "$ROOT/tests/browser.py" "$DASH_URL/#$Q" "$loaded" \
    "print:[$(text '#total-avg'), $(text '#total-indicators'), $(text '#total-mpu'), $(text '#total-reported'), $(text '#total-mnt')]" \
    "print:[$(cell arkhangai 3), $(cell bulgan 3), $(cell bulgan 6.1), $(cell arkhangai 6.1)]" \
    "print:[$(text '[data-goal-total="3"]'), $(text '[data-goal-total="6.1"]'), $(text '#missing-count'), $(text '#comp-reported')]" \
    "print:document.querySelectorAll('#missing li').length" \
    "print:(window.__same_page = 'yes')" \
    "$correct" \
    "wait:$(cell arkhangai 3) === '90.00'" \
    "wait:$(text '#total-avg') === '80.00'" \
    "print:[$(text '#total-avg'), $(cell arkhangai 3), $(text '#total-mnt'), window.__same_page]" \
    "print:(document.querySelector('th[data-goal=\"3\"]').click(), 1)" \
    "wait:!document.getElementById('detail').hidden && document.querySelectorAll('#detail-table tr[data-region]').length === 2" \
    "print:[...document.querySelectorAll('#detail-table tr[data-region]')].map(r => [...r.children].map(c => c.textContent).slice(0, 4))" \
    "shot:$AGG_TEST_BUILD/dashboard.png" \
    "print:(document.querySelector('tr[data-region=\"bulgan\"] th').click(), 1)" \
    "wait:document.getElementById('detail-title').textContent.indexOf('Bulgan') >= 0" \
    "print:[...document.querySelectorAll('#detail-table tr[data-goal]')].map(r => [...r.children].map(c => c.textContent).slice(0, 3))" \
    "size:390x844" \
    "shot:$AGG_TEST_BUILD/dashboard-phone.png" \
    "print:document.documentElement.scrollWidth <= 390 + 1" \
    >"$TEST_DIR/dom.txt" || fail "browser steps failed (see above)"

mapfile -t dom <"$TEST_DIR/dom.txt"
expect_eq "national figures" '["76.67","3","1 / 2 / 0","2 / 30","1,500,000.00 / 1,800,000.00"]' "${dom[0]}"
# the same figures as Redis holds
expect_eq "heat map cells = Redis" "$redis_cells" "${dom[1]}"
expect_eq "heat map cells, by hand" '["80.00","100.00","50.00",""]' "${dom[1]}"
expect_eq "goal totals and completeness" '["90.00","50.00","28","2 / 30 (6.67%)"]' "${dom[2]}"
expect_eq "missing regions listed" 28 "${dom[3]}"
expect_eq "after the correction, same page" '["80.00","90.00","1,650,000.00 / 1,800,000.00","yes"]' "${dom[5]}"
expect_eq "Redis after the correction" 80.00 "$(rcli HGET "$P:total" completion_avg)"
expect_eq "goal 3 drill-down" '[["1","Булган Bulgan","100.00","1"],["2","Архангай Arkhangai","90.00","1"]]' "${dom[7]}"
expect_eq "bulgan drill-down" '[["3 Collect fund revenue, widen coverage, pay pensions and benefits on time, execute the budget","100.00","1 / 2"],["6.1 Inspect compliance with the social-insurance laws and follow up earlier findings","50.00","1 / 1"]]' "${dom[9]}"
expect_eq "phone: no horizontal scroll of the page" true "${dom[10]}"
[[ -s $AGG_TEST_BUILD/dashboard.png && -s $AGG_TEST_BUILD/dashboard-phone.png ]] || mismatch "no screenshots"

# /metrics has the real worker's counters, as its own JSON in Redis says (4 records
# applied: 3 rows and the correction; read by the Prometheus client's parser).
deadline=$(($(date +%s) + 20))
until [[ $(rcli --scan --pattern "$KEY_PREFIX:internal:metrics:*" | head -n 1 | xargs -r redis-cli -h "$AGG_REDIS_HOST" -p "$AGG_REDIS_PORT" GET | jq -r .records_applied 2>/dev/null) == 4 ]]; do
    (($(date +%s) < deadline)) || fail "the worker's metrics never showed 4 records applied"
    sleep 0.2
done
mkey=$(rcli --scan --pattern "$KEY_PREFIX:internal:metrics:*" | head -n 1)
member=${mkey#"$KEY_PREFIX:internal:metrics:"}
curl -fsS -m 5 "$DASH_URL/metrics" >"$TEST_DIR/metrics.prom" || fail "/metrics failed"
rcli GET "$mkey" >"$TEST_DIR/worker-metrics.json"
/usr/bin/python3 - "$TEST_DIR/metrics.prom" "$TEST_DIR/worker-metrics.json" "$member" <<'PY' ||
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text, doc, member = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
got = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
       if s.labels.get("worker") == member and s.name != "agg_worker_last_error_info"}
# the worker stores its metrics every 300 ms: the counters that no longer move must agree
fields = {"agg_worker_records_applied_total": "records_applied", "agg_worker_dlq_total": "dlq",
          "agg_worker_records_unchanged_total": "records_unchanged", "agg_worker_lag": "lag"}
bad = [(n, got.get(n), doc[f]) for n, f in fields.items() if got.get(n) != doc[f]]
# per topic: the worker's one quarter topic, its lag as the worker stored it
topic_lag = {s.labels["topic"]: s.value for f in text_string_to_metric_families(text)
             for s in f.samples if s.name == "agg_worker_topic_lag" and s.labels.get("worker") == member}
if topic_lag != {t: float(v) for t, v in doc["lag_by_topic"].items()} or len(topic_lag) != 1:
    bad.append(("agg_worker_topic_lag", topic_lag, doc["lag_by_topic"]))
if bad or got.get("agg_worker_records_applied_total") != 4:
    sys.exit(f"/metrics vs the worker's JSON: {bad}, records_applied {got.get('agg_worker_records_applied_total')}")
PY
    mismatch "/metrics does not match the worker's counters"

# With a token: opened once as /?token=…, the page works from the cookie and drops the
# token from the address bar; without it, nothing but a 401.
TOKEN=tk-$RUN_ID
start_dashboard dash-token --redis-url "$AGG_REDIS_URL" --token "$TOKEN"
/usr/bin/python3 "$ROOT/tests/browser.py" "$DASH_URL/?token=$TOKEN#$Q" "$loaded" \
    "print:[$(text '#total-avg'), location.search, document.cookie]" \
    >"$TEST_DIR/dom-token.txt" || fail "browser steps with a token failed"
# document.cookie is empty: the cookie is HttpOnly, out of reach of scripts
expect_eq "page with a token" '["80.00","",""]' "$(cat "$TEST_DIR/dom-token.txt")"
/usr/bin/python3 "$ROOT/tests/browser.py" "$DASH_URL/" \
    "wait:document.readyState === 'complete'" "print:document.body.innerText.indexOf('unauthorized') >= 0" \
    >"$TEST_DIR/dom-no-token.txt" || fail "browser steps without a token failed"
expect_eq "page without a token" true "$(cat "$TEST_DIR/dom-no-token.txt")"
log "screenshots: $AGG_TEST_BUILD/dashboard.png, $AGG_TEST_BUILD/dashboard-phone.png"
assert_all_passed
