#!/usr/bin/env bash
# timeout: 180
# sanitizer: yes
#
# Quarter close (SPEC 8), with every number of the summaries worked out here.
#
# Everything is on the topic before the worker starts: per partition the records, then
# the close markers, then late rows. So partitions reach their markers in any order and
# an early one sees its late rows long before the quarter closes: they must wait (the
# partition is held), revision 1 must hold exactly the records before the markers, and
# the late rows must arrive as one coalesced amendment (revision 2, late_records 2).
# Then a second close of the closed quarter must emit nothing new.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q2
D=$TEST_DIR
# Deadline 2024-07-10T00:00:00+08:00 = 1720540800000 (the default rule, day 10).
#   arkhangai   first 2024-07-05T10:00:00Z = 1720173600000  on time
#   bulgan      first 2024-07-12T00:00:00Z = 1720742400000  late
#   ub-bayangol first 2024-07-01T00:00:00Z = 1719792000000  on time
cat >"$D/base.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,submitted_at
arkhangai,2024,2,3,3.1.1,count,10,8,80,2024-07-05T10:00:00Z
arkhangai,2024,2,6.1,6.1.1,mnt,1000000,1200000,120,2024-07-06T00:00:00Z
bulgan,2024,2,3,3.1.1,person,50,25,50,2024-07-12T00:00:00Z
ub-bayangol,2024,2,6.1,6.1.1,count,5,0,0,2024-07-01T00:00:00Z
ub-bayangol,2024,2,6.1,6.1.2,text,,,,2024-07-02T00:00:00Z
CSV
# Late: bulgan corrects 3.1.1 (revision 2, now met), arkhangai adds 3.1.2.
cat >"$D/late.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
bulgan,2024,2,3,3.1.1,person,50,50,100,2,2024-07-20T00:00:00Z
arkhangai,2024,2,3,3.1.2,count,4,2,50,1,2024-07-21T00:00:00Z
CSV

# One row of another quarter, closed at the end with the worker running and idle: the
# time from "close" to its summaries on the topic is logged (the figure of the README).
printf 'region,year,quarter,goal,indicator,completion,submitted_at\nkhovd,2024,4,3,3.1.1,100,2025-01-02T00:00:00Z\n' >"$D/q4.csv"
publish "$D/base.csv" "$D/q4.csv"
close_quarter "$Q" --deadline 2024-07-10T00:00:00+08:00 || fail "close failed"
publish "$D/late.csv"
t_start=$(now_s)
start_worker worker --amend-quiet-ms 1500 --offset-check-ms 200

wait_summaries "$Q" 4 60
log "revision 1 on the topic $(awk -v a="$t_start" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }') s after the worker started"
wait_summaries "$Q" 8 60
summaries "$Q" >"$D/summaries.json"
log "revision 2 (the amendment) on the topic"

python3 - "$D/summaries.json" <<'PY' || mismatch "summary contents differ (see above)"
import json, sys
got = {}
for line in open(sys.argv[1]):
    s = json.loads(line)
    got[s["id"]] = s
expected_regions = sorted("""arkhangai bayan-ulgii bayankhongor bulgan darkhan-uul dornod
    dornogovi dundgovi govi-altai govisumber khentii khovd khuvsgul orkhon selenge sukhbaatar
    tuv ub-bagakhangai ub-baganuur ub-bayangol ub-bayanzurkh ub-chingeltei ub-khan-uul
    ub-nalaikh ub-songinokhairkhan ub-sukhbaatar umnugovi uvs uvurkhangai zavkhan""".split())
missing = [r for r in expected_regions if r not in ("arkhangai", "bulgan", "ub-bayangol")]
def T(ind, ass, s, met, part, unmet, avg=None, **sums):
    t = {"indicators": ind, "assessed": ass, "completion_sum_x100": s, "met": met,
         "partial": part, "unmet": unmet}
    if avg is not None:
        t["completion_avg"] = avg
    for k, v in sums.items():
        t[k.replace("t_", "target_x100:").replace("a_", "achieved_x100:")] = v
    return t
want = {
  # Revision 1: the five base records only. Completion 120 counts as 100.
  # sum = 8000 + 10000 + 5000 + 0 = 23000 over 4 assessed -> 57.50
  "2024-Q2/total/1": dict(
    totals=T(5, 4, 23000, 1, 2, 1, "57.50", t_count=1500, a_count=800, t_person=5000,
             a_person=2500, t_mnt=100000000, a_mnt=120000000),
    goals=[{"goal": "3", "totals": T(2, 2, 13000, 0, 2, 0, "65.00", t_count=1000, a_count=800,
                                     t_person=5000, a_person=2500)},
           {"goal": "6.1", "totals": T(3, 2, 10000, 1, 0, 1, "50.00", t_count=500, a_count=0,
                                       t_mnt=100000000, a_mnt=120000000)}],
    regions_expected=30, regions_reported=3, regions_on_time=2, regions_missing=missing,
    regions_late=["bulgan"], reporting_rate="10.00", on_time_rate="6.67",
    deadline_ms=1720540800000, late_records=0, revision=1, scope="total", partitions=6),
  "2024-Q2/region:arkhangai/1": dict(
    totals=T(2, 2, 18000, 1, 1, 0, "90.00", t_count=1000, a_count=800, t_mnt=100000000,
             a_mnt=120000000),
    goals=[{"goal": "3", "totals": T(1, 1, 8000, 0, 1, 0, "80.00", t_count=1000, a_count=800)},
           {"goal": "6.1", "totals": T(1, 1, 10000, 1, 0, 0, "100.00", t_mnt=100000000,
                                       a_mnt=120000000)}],
    on_time=True, first_submitted_ms=1720173600000, revision=1),
  "2024-Q2/region:bulgan/1": dict(
    totals=T(1, 1, 5000, 0, 1, 0, "50.00", t_person=5000, a_person=2500),
    goals=[{"goal": "3", "totals": T(1, 1, 5000, 0, 1, 0, "50.00", t_person=5000, a_person=2500)}],
    on_time=False, first_submitted_ms=1720742400000, revision=1),
  "2024-Q2/region:ub-bayangol/1": dict(
    totals=T(2, 1, 0, 0, 0, 1, "0.00", t_count=500, a_count=0),
    goals=[{"goal": "6.1", "totals": T(2, 1, 0, 0, 0, 1, "0.00", t_count=500, a_count=0)}],
    on_time=True, first_submitted_ms=1719792000000, revision=1),
  # Revision 2: bulgan 3.1.1 -> 100 (met, achieved 50), arkhangai 3.1.2 (50, count 4/2).
  # sum = 8000 + 10000 + 10000 + 0 + 5000 = 33000 over 5 -> 66.00
  "2024-Q2/total/2": dict(
    totals=T(6, 5, 33000, 2, 2, 1, "66.00", t_count=1900, a_count=1000, t_person=5000,
             a_person=5000, t_mnt=100000000, a_mnt=120000000),
    goals=[{"goal": "3", "totals": T(3, 3, 23000, 1, 2, 0, "76.67", t_count=1400, a_count=1000,
                                     t_person=5000, a_person=5000)},
           {"goal": "6.1", "totals": T(3, 2, 10000, 1, 0, 1, "50.00", t_count=500, a_count=0,
                                       t_mnt=100000000, a_mnt=120000000)}],
    regions_reported=3, regions_on_time=2, regions_late=["bulgan"], late_records=2,
    revision=2),
  "2024-Q2/region:bulgan/2": dict(
    totals=T(1, 1, 10000, 1, 0, 0, "100.00", t_person=5000, a_person=5000),
    on_time=False, late_records=2, revision=2),
  "2024-Q2/region:arkhangai/2": dict(
    totals=T(3, 3, 23000, 1, 2, 0, "76.67", t_count=1400, a_count=1000, t_mnt=100000000,
             a_mnt=120000000), revision=2),
  "2024-Q2/region:ub-bayangol/2": dict(totals=T(2, 1, 0, 0, 0, 1, "0.00", t_count=500,
                                                a_count=0), revision=2),
}
bad = 0
if sorted(got) != sorted(want):
    print("ids: got %s, want %s" % (sorted(got), sorted(want)))
    bad += 1
for sid, fields in want.items():
    s = got.get(sid, {})
    for k, v in fields.items():
        if s.get(k) != v:
            print("%s %s: got %r, want %r" % (sid, k, s.get(k), v))
            bad += 1
for sid, s in got.items():
    for k in ("closed_ms", "emitted_ms"):
        if not isinstance(s.get(k), int) or s[k] <= 0:
            print("%s: %s missing" % (sid, k)); bad += 1
    if s.get("replayed") is not False:
        print("%s: replayed %r" % (sid, s.get("replayed"))); bad += 1
    # Provenance: each of the 6 partitions, up to the offset the summary counts.
    if sorted(s.get("offsets", {})) != ["0", "1", "2", "3", "4", "5"]:
        print("%s: offsets %r" % (sid, s.get("offsets"))); bad += 1
r1 = got.get("2024-Q2/total/1", {})
if r1 and sum(r1["offsets"].values()) != 5 + 6:
    print("revision 1 counts offsets %r, want the 5 records + 6 markers" % r1["offsets"]); bad += 1
r2 = got.get("2024-Q2/total/2", {})
if r2 and sum(r2["offsets"].values()) != 5 + 6 + 2:
    print("revision 2 counts offsets %r, want 13 messages" % r2["offsets"]); bad += 1
sys.exit(1 if bad else 0)
PY

P=$KEY_PREFIX:$Q
for f in "status closed" "summary_revision 2" "regions_expected 30" "regions_reported 3" \
    "regions_on_time 2" "partitions 6" "partitions_closed 6" "deadline_ms 1720540800000"; do
    set -- $f
    expect_eq "state $1" "$2" "$(rcli HGET "$P:state" "$1")"
done
# The reference list minus the three regions that reported, in code order.
missing=$(cut -d, -f1 reference/regions.csv | tail -n +2 | grep -vxE 'arkhangai|bulgan|ub-bayangol' |
    LC_ALL=C sort | paste -sd,)
expect_eq "state regions_missing" "$missing" "$(rcli HGET "$P:state" regions_missing)"
expect_eq "late_pending after the amendment" "" "$(rcli HGET "$P:state" late_pending)"
expect_eq "outbox empty" 0 "$(rcli LLEN "$KEY_PREFIX:internal:outbox")"
zset_equals "$P:regions:first" "arkhangai=1720173600000 bulgan=1720742400000 ub-bayangol=1719792000000"

# A second close of a closed quarter emits nothing new (markers on closed partitions).
close_quarter "$Q" || fail "second close failed"
wait_applied "${TOPIC_PREFIX}$Q" $((5 + 6 + 2 + 6)) 30
sleep 2
expect_eq "summaries after a second close" 8 "$(summaries "$Q" | wc -l)"
expect_eq "summary messages on the topic (no duplicates)" 8 "$(summary_messages "$Q")"
expect_eq "revision after a second close" 2 "$(rcli HGET "$P:state" summary_revision)"

t0=$(now_s)
close_quarter 2024-Q4 || fail "close of 2024-Q4 failed"
wait_summaries 2024-Q4 2 30
log "close to summaries on the topic, worker idle: $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }') s (close command included)"

reference --closed "$Q" --closed 2024-Q4 "$D/base.csv" "$D/late.csv" "$D/q4.csv" ||
    mismatch "reference.py found differences"
alive "$WORKER_PID" || fail "the worker exited"
assert_all_passed
