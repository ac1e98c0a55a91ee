#!/usr/bin/env bash
# sanitizer: yes
# timeout: 120
#
# agg-dashboard's JSON API, CSV exports, /metrics and limits, on a Redis holding a known
# data set: tests/fixtures/dashboard.redis (the keys 10-scripted's worker run leaves,
# quarter 2024-Q2, open; plus a closed quarter 2024-Q1 with SPEC 8's close fields and one
# worker's metrics). The dashboard reads it as the README's read-only ACL user. Every
# answer is compared with literal values. Then: a hung Redis and a stopped Redis give 503
# within the timeout, /healthz and /metrics still answer, and the API recovers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/dashboard.sh"

load_fixture
make_readonly_user
trap 'rc=$?; drop_readonly_user; cleanup $rc' EXIT
TOKEN=t0ken-$RUN_ID
A=(-H "Authorization: Bearer $TOKEN")
start_dashboard dash --redis-url "redis://$DASH_USER:$DASH_PASS@$AGG_REDIS_HOST:$AGG_REDIS_PORT/0" \
    --token "$TOKEN" --redis-timeout-ms 500
log "dashboard on $DASH_URL as Redis user $DASH_USER"

# Command line: usage errors exit 2, a port already taken 1.
cli_rc() { local rc=0; timeout 5 "$AGG_BIN/agg-dashboard" "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }
expect_eq "--listen 127.0.0.1:99999" 2 "$(cli_rc --listen 127.0.0.1:99999)"
expect_eq "--listen nonsense" 2 "$(cli_rc --listen nonsense)"
expect_eq "--token with a space" 2 "$(cli_rc --token 'a b')"
expect_eq "--redis-url http://x" 2 "$(cli_rc --redis-url http://x)"
expect_eq "--poll-ms 1" 2 "$(cli_rc --poll-ms 1)"
expect_eq "-X (no Kafka here)" 2 "$(cli_rc -X a=b)"
expect_eq "port in use" 1 "$(cli_rc --listen "${DASH_URL#http://}")"

# The ACL rule is read-only: the same user cannot write.
ro=$(redis-cli -h "$AGG_REDIS_HOST" -p "$AGG_REDIS_PORT" --user "$DASH_USER" --pass "$DASH_PASS" \
    --no-auth-warning SET "$KEY_PREFIX:x" 1 2>&1 || true)
[[ $ro == *NOPERM* ]] || mismatch "read-only user could write: $ro"

# --- token ------------------------------------------------------------------------------
get /healthz
expect_code "/healthz without a token" 200
expect_eq "/healthz body" ok "$(cat "$BODY")"
for p in / /app.js /api/quarters /metrics "/api/quarters/2024-Q2/matrix?format=csv"; do
    get "$p"
    expect_code "$p without a token" 401
done
get /api/quarters -H "Authorization: Bearer wrong"
expect_code "wrong token" 401
json_is "401 body" . '{"error":"unauthorized","message":"a valid bearer token is required","status":401}'
get /api/quarters -H "Authorization: Bearer ${TOKEN}x"
expect_code "token with a character more" 401
# ?token= sets the cookie the page's own requests then carry
hdrs=$(curl -sS -m 5 -D - -o /dev/null "$DASH_URL/?token=$TOKEN")
grep -q "^Set-Cookie: agg_token=$TOKEN; Path=/; HttpOnly; SameSite=Strict" <<<"$hdrs" ||
    mismatch "no token cookie: $hdrs"
grep -qi "^Content-Security-Policy: default-src 'none'" <<<"$hdrs" || mismatch "no CSP header"
get /api/quarters -H "Cookie: other=1; agg_token=$TOKEN"
expect_code "token in the cookie" 200
get "/api/quarters?token=x$TOKEN"
expect_code "wrong token in the query" 401
get /api/quarters -I "${A[@]}"
expect_code HEAD 200
expect_eq "HEAD: headers only" "" "$(grep -c '"quarters"' "$BODY" | sed 's/^0$//')"

# --- API, exact answers -----------------------------------------------------------------
get /api/quarters "${A[@]}"
expect_code /api/quarters 200
json_is /api/quarters . '{"quarters":[
  {"quarter":"2024-Q2","status":"open","summary_revision":null,"closed_ms":null},
  {"quarter":"2024-Q1","status":"closed","summary_revision":2,"closed_ms":1712700000000}],
  "latest":"2024-Q2"}'

get /api/quarters/2024-Q2 "${A[@]}"
expect_code /api/quarters/2024-Q2 200
json_is /api/quarters/2024-Q2 . '{"quarter":"2024-Q2",
  "state":{"status":"open","closed_ms":null,"summary_revision":null,"partitions":null,"partitions_closed":null},
  "total":{"indicators":14,"assessed":11,"completion_sum_x100":89141,"completion_avg":"81.04",
    "met":5,"partial":5,"unmet":1,"updated_ms":1720000000000,"amounts":{
    "count":{"target_x100":18000,"achieved_x100":16500,"target":"180.00","achieved":"165.00"},
    "person":{"target_x100":10200,"achieved_x100":7400,"target":"102.00","achieved":"74.00"},
    "mnt":{"target_x100":260000060,"achieved_x100":151000134,"target":"2600000.60","achieved":"1510001.34"}}},
  "regions_expected":30,"regions_reported":3,"goals":["3","6.1","6.2"]}'

get /api/quarters/2024-Q2/matrix "${A[@]}"
expect_code matrix 200
json_is "matrix goals" '[.goals[] | {code, title_en, avg: .scope.completion_avg, n: .scope.indicators}]' '[
  {"code":"3","title_en":"Collect fund revenue, widen coverage, pay pensions and benefits on time, execute the budget","avg":"90.56","n":3},
  {"code":"6.1","title_en":"Inspect compliance with the social-insurance laws and follow up earlier findings","avg":"98.25","n":5},
  {"code":"6.2","title_en":"Collect contribution revenue and recover receivables","avg":"65.00","n":6}]'
# the heat map: completion average of each reported region in each goal it has rows in
json_is "matrix cells" '[.regions[] | select(.reported) | {code, name_mn, name_en, avg: .scope.completion_avg,
    cells: (.goals | map_values(.completion_avg))}]' '[
  {"code":"ub-bayangol","name_mn":"Баянгол","name_en":"Bayangol","avg":"83.33","cells":{"6.1":"100.00","6.2":"75.00"}},
  {"code":"arkhangai","name_mn":"Архангай","name_en":"Arkhangai","avg":"73.28","cells":{"3":"85.84","6.1":"97.37","6.2":"0.00"}},
  {"code":"bulgan","name_mn":"Булган","name_en":"Bulgan","avg":"91.67","cells":{"3":"100.00","6.1":null,"6.2":"87.50"}}]'
json_is "matrix: all 30 expected regions, 27 without a report" \
    '[(.regions | length), ([.regions[] | select(.reported | not) | select(.scope == null and .goals == {})] | length)]' '[30,27]'
json_is "matrix total" .total.completion_sum_x100 89141

get /api/quarters/2024-Q2/regions/bulgan "${A[@]}"
expect_code region 200
json_is "region bulgan" 'del(.scope)' '{"quarter":"2024-Q2",
  "region":{"code":"bulgan","name_mn":"Булган","name_en":"Bulgan"},
  "reported":true,"last_submitted_ms":1721520000000,"first_submitted_ms":null,
  "goals":[
   {"code":"3","title_en":"Collect fund revenue, widen coverage, pay pensions and benefits on time, execute the budget",
    "scope":{"indicators":1,"assessed":1,"completion_sum_x100":10000,"completion_avg":"100.00","met":1,"partial":0,"unmet":0,
      "amounts":{"count":{"target_x100":5000,"achieved_x100":5000,"target":"50.00","achieved":"50.00"}},"updated_ms":1720000000000},
    "rank":1,"ranked":2},
   {"code":"6.1","title_en":"Inspect compliance with the social-insurance laws and follow up earlier findings",
    "scope":{"indicators":1,"assessed":0,"completion_sum_x100":0,"completion_avg":null,"met":0,"partial":0,"unmet":0,
      "amounts":{"person":{"target_x100":2000,"achieved_x100":null,"target":"20.00","achieved":null}},"updated_ms":1720000000000},
    "rank":null,"ranked":2},
   {"code":"6.2","title_en":"Collect contribution revenue and recover receivables",
    "scope":{"indicators":2,"assessed":2,"completion_sum_x100":17500,"completion_avg":"87.50","met":1,"partial":1,"unmet":0,
      "amounts":{"person":{"target_x100":1200,"achieved_x100":900,"target":"12.00","achieved":"9.00"},
                 "mnt":{"target_x100":10000010,"achieved_x100":10000010,"target":"100000.10","achieved":"100000.10"}},"updated_ms":1720000000000},
    "rank":1,"ranked":3}]}'
json_is "region bulgan scope" '.scope | del(.updated_ms)' '{"indicators":4,"assessed":3,"completion_sum_x100":27500,
  "completion_avg":"91.67","met":2,"partial":1,"unmet":0,"amounts":{
  "count":{"target_x100":5000,"achieved_x100":5000,"target":"50.00","achieved":"50.00"},
  "person":{"target_x100":3200,"achieved_x100":900,"target":"32.00","achieved":"9.00"},
  "mnt":{"target_x100":10000010,"achieved_x100":10000010,"target":"100000.10","achieved":"100000.10"}}}'
# an expected region without a report is there, empty
get /api/quarters/2024-Q2/regions/khovd "${A[@]}"
expect_code "region without a report" 200
json_is "region khovd" '{reported, scope, goals, last_submitted_ms}' '{"reported":false,"scope":null,"goals":[],"last_submitted_ms":null}'

get /api/quarters/2024-Q2/goals/6.2 "${A[@]}"
expect_code goal 200
json_is "goal 6.2 ranking" '{goal, ranked, avg: .scope.completion_avg,
    regions: [.regions[] | [.rank, .code, .name_en, .completion_avg, .completion_avg_x100, .scope.indicators]]}' '{
  "goal":{"code":"6.2","title_en":"Collect contribution revenue and recover receivables"},"ranked":3,"avg":"65.00",
  "regions":[[1,"bulgan","Bulgan","87.50",8750,2],[2,"ub-bayangol","Bayangol","75.00",7500,2],[3,"arkhangai","Arkhangai","0.00",0,2]]}'
# 6.1: bulgan has a row but nothing assessed: listed after the ranked ones, rank null
get /api/quarters/2024-Q2/goals/6.1 "${A[@]}"
json_is "goal 6.1 ranking" '[.regions[] | [.rank, .code, .scope.completion_avg]]' \
    '[[1,"ub-bayangol","100.00"],[2,"arkhangai","97.37"],[null,"bulgan",null]]'

get /api/quarters/2024-Q1/completeness "${A[@]}"
expect_code completeness 200
missing_q1=$(tail -n +2 reference/regions.csv | cut -d, -f1 | grep -vx -e bulgan -e khovd | jq -R . | jq -cs .)
json_is "completeness of the closed quarter" 'del(.regions) | .missing |= map(.code) | .late |= map({code, first_submitted_ms, on_time})' "{
  \"quarter\":\"2024-Q1\",
  \"state\":{\"status\":\"closed\",\"closed_ms\":1712700000000,\"summary_revision\":2,\"partitions\":6,\"partitions_closed\":6},
  \"deadline_ms\":1712678400000,\"regions_expected\":30,\"regions_reported\":2,\"regions_on_time\":1,
  \"reporting_rate\":\"6.67\",\"on_time_rate\":\"3.33\",\"missing\":$missing_q1,
  \"late\":[{\"code\":\"khovd\",\"first_submitted_ms\":1713000000000,\"on_time\":false}]}"
json_is "completeness rows" '[.regions[] | select(.reported) | [.code, .on_time, .first_submitted_ms, .last_submitted_ms]]' \
    '[["bulgan",true,1712000000000,1712000000000],["khovd",false,1713000000000,1713000000000]]'
get /api/quarters/2024-Q2/completeness "${A[@]}"
json_is "completeness of the open quarter" '{state: .state.status, regions_reported, regions_on_time, reporting_rate,
    on_time_rate, late, deadline_ms, missing: (.missing | length)}' '{"state":"open","regions_reported":3,
    "regions_on_time":null,"reporting_rate":"10.00","on_time_rate":null,"late":null,"deadline_ms":1720540800000,"missing":27}'

# --- errors -----------------------------------------------------------------------------
get /api/quarters/2023-Q4 "${A[@]}"
expect_code "unknown quarter" 404
json_is "unknown quarter" . '{"error":"unknown_quarter","message":"no data for quarter 2023-Q4","status":404}'
get /api/quarters/2024-Q2/matrix/x "${A[@]}"
expect_code "unknown endpoint" 404
get /api/quarters/2024-Q9 "${A[@]}"
expect_code "malformed quarter" 400
get /api/quarters/2024-Q2/regions/atlantis "${A[@]}"
expect_code "unknown region" 404
json_is "unknown region" .error '"unknown_region"'
get "/api/quarters/2024-Q2/regions/%22%3E%3Cscript%3E" "${A[@]}"
expect_code "region with markup" 404
get /api/quarters/2024-Q2/goals/9.9 "${A[@]}"
expect_code "unknown goal" 404
get /nowhere "${A[@]}"
expect_code "unknown page" 404
get /api/quarters -X POST "${A[@]}"
expect_code POST 405
get /api/quarters -X DELETE "${A[@]}"
expect_code DELETE 405
get /api/quarters "${A[@]}" --data-binary "x=1" -X GET
expect_code "GET with a body" 413
get "/api/quarters/$(head -c 3000 /dev/zero | tr '\0' a)" "${A[@]}"
expect_code "3000-byte path" 414
get /api/quarters "${A[@]}" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
[[ $HTTP_CODE == 431 || $HTTP_CODE == 413 ]] || mismatch "40 kB header: HTTP $HTTP_CODE, expected 431"
get "/api/quarters?format=xml" "${A[@]}"
expect_code "format=xml" 400

# --- CSV exports --------------------------------------------------------------------------
get "/api/quarters/2024-Q2/matrix?format=csv" "${A[@]}"
expect_code "matrix csv" 200
expect_eq "matrix csv header" $'region,name_mn,name_en,completion_avg,3,6.1,6.2\r' "$(sed -n 1p "$BODY")"
expect_eq "matrix csv arkhangai" $'arkhangai,Архангай,Arkhangai,73.28,85.84,97.37,0.00\r' "$(grep '^arkhangai,' "$BODY")"
expect_eq "matrix csv bulgan" $'bulgan,Булган,Bulgan,91.67,100.00,,87.50\r' "$(grep '^bulgan,' "$BODY")"
expect_eq "matrix csv khovd" $'khovd,Ховд,Khovd,,,,\r' "$(grep '^khovd,' "$BODY")"
expect_eq "matrix csv lines" 31 "$(wc -l <"$BODY")"
get "/api/quarters/2024-Q2/goals/6.2?format=csv" "${A[@]}"
expect_eq "goal csv" "rank,region,name_mn,name_en,indicators,assessed,completion_avg,met,partial,unmet,target_count,achieved_count,target_person,achieved_person,target_mnt,achieved_mnt
1,bulgan,Булган,Bulgan,2,2,87.50,1,1,0,,,12.00,9.00,100000.10,100000.10
2,ub-bayangol,Баянгол,Bayangol,2,2,75.00,1,1,0,10.00,5.00,,,200000.00,210000.99
3,arkhangai,Архангай,Arkhangai,2,1,0.00,0,0,1,,,,,800000.00,0.00" "$(tr -d '\r' <"$BODY")"
get "/api/quarters/2024-Q2?format=csv" "${A[@]}"
expect_eq "total csv" "quarter,status,regions_expected,regions_reported,indicators,assessed,completion_avg,met,partial,unmet,target_count,achieved_count,target_person,achieved_person,target_mnt,achieved_mnt
2024-Q2,open,30,3,14,11,81.04,5,5,1,180.00,165.00,102.00,74.00,2600000.60,1510001.34" "$(tr -d '\r' <"$BODY")"
hdrs=$(curl -sS -m 5 -D - -o /dev/null "${A[@]}" "$DASH_URL/api/quarters/2024-Q1/completeness?format=csv")
grep -q '^Content-Disposition: attachment; filename="2024-Q1-completeness.csv"' <<<"$hdrs" ||
    mismatch "no file name for the download: $hdrs"
get "/api/quarters/2024-Q1/completeness?format=csv" "${A[@]}"
expect_eq "completeness csv khovd" $'khovd,Ховд,Khovd,true,true,false,1713000000000,1713000000000\r' "$(grep '^khovd,' "$BODY")"

# --- /metrics, read by the Prometheus client's own parser ------------------------------------
get /metrics "${A[@]}"
expect_code /metrics 200
# Debian's python3-prometheus-client (scripts/deps.sh): the system Python, whatever
# python3 comes first on PATH.
/usr/bin/python3 - "$BODY" >"$TEST_DIR/metrics.txt" <<'PY' || mismatch "/metrics does not parse: $(tail -n 3 "$TEST_DIR/metrics.txt")"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}[{labels}] {s.value:g}")
PY
expect_eq "worker series" 'agg_worker_batches_total[worker=host-a:42] 4
agg_worker_conflicts_total[worker=host-a:42] 0
agg_worker_dlq_total[worker=host-a:42] 1
agg_worker_fenced_total[worker=host-a:42] 0
agg_worker_lag[worker=host-a:42] 0
agg_worker_last_error_info[error=redis: "timeout",worker=host-a:42] 1
agg_worker_offsets_moved_total[worker=host-a:42] 0
agg_worker_records_applied_total[worker=host-a:42] 14
agg_worker_records_unchanged_total[worker=host-a:42] 10
agg_worker_redis_errors_total[worker=host-a:42] 2
agg_worker_redis_roundtrips_total[worker=host-a:42] 9
agg_worker_report_time_ms[worker=host-a:42] 1.72e+12
agg_worker_topic_lag[topic=reports.2024-Q2,worker=host-a:42] 0' "$(grep '^agg_worker' "$TEST_DIR/metrics.txt" | LC_ALL=C sort)"
grep -qx 'agg_dashboard_redis_up\[\] 1' "$TEST_DIR/metrics.txt" || mismatch "redis_up is not 1"
grep -qx 'agg_dashboard_workers\[\] 1' "$TEST_DIR/metrics.txt" || mismatch "workers is not 1"
# the 401s and 404s above were counted: api 401 = no token twice, three wrong tokens;
# api 404 = unknown quarter, endpoint, region (twice), goal
grep -qx 'agg_dashboard_requests_total\[code=401,handler=api\] 5' "$TEST_DIR/metrics.txt" ||
    mismatch "401s of the api: $(grep 'code=401,handler=api' "$TEST_DIR/metrics.txt")"
grep -qx 'agg_dashboard_requests_total\[code=404,handler=api\] 5' "$TEST_DIR/metrics.txt" ||
    mismatch "404s of the api: $(grep 'code=404,handler=api' "$TEST_DIR/metrics.txt")"

# --- a Redis that accepts connections and never answers: 503 within the timeout ---------
hung_port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); conns = []
t = time.time()
while time.time() - t < 60:
    s.settimeout(1)
    try: conns.append(s.accept())
    except OSError: pass' "$hung_port" &
HUNG_PID=$!
WORKER_PIDS+=("$HUNG_PID")
sleep 0.3
main_url=$DASH_URL
start_dashboard hung --redis-url "redis://127.0.0.1:$hung_port/0" --redis-timeout-ms 300 \
    --allow-host dash.office.example,other.example
# (this one has no token: a foreign Host name is refused, the defence against DNS
# rebinding; localhost, loopback addresses and the --allow-host names pass, here to the
# hung Redis)
get /api/quarters -H "Host: rebind.example.com"
expect_code "foreign Host, no token" 403
json_is "foreign Host" .error '"bad_host"'
get /api/quarters -H "Host: office.example"
expect_code "Host that only ends like an allowed one" 403
get /api/quarters -H "Host: DASH.office.example:8080"
expect_code "allowed Host name" 503
get /healthz -H "Host: rebind.example.com"
expect_code "/healthz, any Host" 200
t0=$(date +%s%N)
get /api/quarters/2024-Q2
ms=$((($(date +%s%N) - t0) / 1000000))
expect_code "hung Redis" 503
json_is "hung Redis" .error '"redis_unavailable"'
((ms < 2000)) || mismatch "hung Redis: the answer took $ms ms (timeout 300 ms)"
log "hung Redis: 503 after $ms ms"
DASH_URL=$main_url

# --- Redis stopped, then back --------------------------------------------------------------
service_stop redis
t0=$(date +%s%N)
get /api/quarters/2024-Q2/matrix "${A[@]}"
ms=$((($(date +%s%N) - t0) / 1000000))
expect_code "Redis down" 503
json_is "Redis down" .error '"redis_unavailable"'
((ms < 2000)) || mismatch "Redis down: the answer took $ms ms"
get /healthz
expect_code "/healthz while Redis is down" 200
get /metrics "${A[@]}"
expect_code "/metrics while Redis is down" 200
grep -qx 'agg_dashboard_redis_up 0' "$BODY" || mismatch "redis_up is not 0 while Redis is down"
service_start redis
make_readonly_user # ACL users live in memory only: Redis forgot it
get /api/quarters/2024-Q2 "${A[@]}"
expect_code "Redis back" 200
json_is "Redis back" .total.completion_avg '"81.04"'
# A restart between two requests: the kept connection is stale, the read is retried on
# a new one, no 503.
service_stop redis
service_start redis
make_readonly_user
get /api/quarters/2024-Q2 "${A[@]}"
expect_code "first request after a Redis restart" 200

assert_all_passed
