#!/usr/bin/env bash
# sanitizer: yes
#
# Scripted scenario with every value computed by hand: three regions, goals 3, 6.1 and
# 6.2, units count/person/mnt/pct/text, resends of the same revision, a correction,
# revisions that move a row to another goal (and unit), a stale revision sent after a
# newer one. Four files published in order, one worker run to idle; then every public
# key is compared with literal values, and tests/reference.py checks the same data a
# second, independent way.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q2
TOPIC=${TOPIC_PREFIX}$Q
P=$KEY_PREFIX:$Q
D=$TEST_DIR

# 1: first reports of arkhangai and bulgan (bulgan's times are in +08:00).
cat >"$D/1-initial.csv" <<'EOF'
region,year,quarter,goal,indicator,title,unit,baseline,target,achieved,completion,revision,submitted_at,report_id
arkhangai,2024,2,3,3.1.1,Insured persons registered,count,100,120,100,83.33,1,2024-07-05T10:00:00Z,AR-2024-H1
arkhangai,2024,2,3,3.1.2,"Contribution revenue, tugrik",mnt,,1500000.50,1200000.25,80,1,2024-07-05T10:00:00Z,AR-2024-H1
arkhangai,2024,2,6.1,6.1.1,Inspected employers,person,,40,45,112.5,1,2024-07-05T10:00:00Z,AR-2024-H1
arkhangai,2024,2,6.1,6.1.2,Share of findings fixed,pct,,95,90,94.74,1,2024-07-05T10:00:00Z,AR-2024-H1
arkhangai,2024,2,6.2,6.2.1,Arrears recovered,mnt,,800000,0,0,1,2024-07-05T10:00:00Z,AR-2024-H1
arkhangai,2024,2,6.2,6.2.2,"Quality of the ""follow-up"" work",text,,,,,1,2024-07-05T10:00:00Z,AR-2024-H1
bulgan,2024,2,3,3.1.1,Insured persons registered,count,,50,50,100,1,2024-07-04T09:15:00+08:00,BU-2024-H1
bulgan,2024,2,3,3.1.2,Contribution revenue,mnt,,300000,150000,50,1,2024-07-04T09:15:00+08:00,BU-2024-H1
bulgan,2024,2,6.1,6.1.1,Inspected employers,person,,20,,,1,2024-07-04T09:15:00+08:00,BU-2024-H1
bulgan,2024,2,6.2,6.2.1,Arrears recovered,mnt,,100000.10,100000.10,100,1,2024-07-04T09:15:00+08:00,BU-2024-H1
EOF

# 2: ub-bayangol's report (columns in another order, no baseline or report_id), plus
# two resends of revision 1: bulgan 3.1.1 identical, arkhangai 3.1.1 with other values
# and a later time. Equal revision: both change no aggregate (their submitted_at still
# counts for the regions score, see below).
cat >"$D/2-ub-and-resends.csv" <<'EOF'
indicator,region,quarter,year,goal,unit,target,achieved,completion,revision,submitted_at,title
3.1.1,ub-bayangol,2,2024,3,count,10,0,0,1,2024-07-06T00:00:00Z,"Registered, new"
6.1.1,ub-bayangol,2,2024,6.1,person,30,15,50,1,2024-07-06T00:00:00Z,"Шалгасан ажил олгогч"
6.1.3,ub-bayangol,2,2024,6.1,count,0,0,250,1,2024-07-06T00:00:00Z,"Repeat	inspections (a tab: Word cells have them)"
6.2.1,ub-bayangol,2,2024,6.2,mnt,200000,210000.99,105,1,2024-07-06T00:00:00Z,Arrears recovered
3.1.1,bulgan,2,2024,3,count,50,50,100,1,2024-07-12T00:00:00Z,Insured persons registered
3.1.1,arkhangai,2,2024,3,count,120,999,10,1,2024-07-13T00:00:00Z,Resent with other values
EOF

# 3: corrections.
#   arkhangai 3.1.1 rev 2: achieved 100 -> 110, completion 83.33 -> 91.67
#   bulgan 3.1.2 rev 2: MOVES from goal 3 / mnt to goal 6.2 / person
#   ub-bayangol 6.1.1 rev 3 (no rev 2): completion removed (not assessed any more)
#   ub-bayangol 3.1.1 rev 2: MOVES from goal 3 to goal 6.2 (its only goal-3 row, so
#     the scope ub-bayangol:goal:3 must disappear), completion 0 -> 50; empty unit =
#     count
#   arkhangai 6.1.2 rev 2: same values, submitted 2024-07-11
cat >"$D/3-corrections.csv" <<'EOF'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2024,2,3,3.1.1,count,120,110,91.67,2,2024-07-10T08:30:00Z
bulgan,2024,2,6.2,3.1.2,person,12,9,75,2,2024-07-08T12:00:00.250Z
ub-bayangol,2024,2,6.1,6.1.1,person,30,20,,3,2024-07-07T00:00:00Z
ub-bayangol,2024,2,6.2,3.1.1,,10,5,50,2,2024-07-06T12:00:00Z
arkhangai,2024,2,6.1,6.1.2,pct,95,90,94.74,2,2024-07-11T00:00:00Z
EOF

# 4: late resends: arkhangai 3.1.1 revision 1 after revision 2 (stale), bulgan 3.1.2
# revision 2 again with goal 3 and other values (equal revision): no aggregate changes.
# And arkhangai 6.1.2 revision 3, same values, dated 2024-07-09 (earlier than its
# revision 2).
cat >"$D/4-late.csv" <<'EOF'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
arkhangai,2024,2,3,3.1.1,count,120,0,0,1,2024-07-20T00:00:00Z
bulgan,2024,2,3,3.1.2,mnt,300000,300000,100,2,2024-07-21T00:00:00Z
arkhangai,2024,2,6.1,6.1.2,pct,95,90,94.74,3,2024-07-09T00:00:00Z
EOF
MESSAGES=24 # 10 + 6 + 5 + 3 rows

log "publishing 4 files to $TOPIC"
for f in 1-initial 2-ub-and-resends 3-corrections 4-late; do
    produce "$D/$f.csv"
done
expect_eq "messages on $TOPIC" "$MESSAGES" "$(topic_count "$TOPIC")"

log "running a worker until it is idle for 4 s"
start_worker worker --exit-idle-ms 4000
wait_exit "$WORKER_PID" 90
((EXIT_RC == 0)) || fail "worker exited with status $EXIT_RC, expected 0"
expect_eq "messages applied (sum of stored offsets)" "$MESSAGES" "$(applied "$TOPIC")"

# Latest revisions, by hand (x100 values; completion c capped at 10000 in the sums):
#   arkhangai   3.1.1  g3   count  T 12000     A 11000     c 9167   partial (rev 2)
#               3.1.2  g3   mnt    T 150000050 A 120000025 c 8000   partial
#               6.1.1  g6.1 person T 4000      A 4500      c 11250->10000 met
#               6.1.2  g6.1 pct    (not summed)            c 9474   partial (rev 3)
#               6.2.1  g6.2 mnt    T 80000000  A 0         c 0      unmet
#               6.2.2  g6.2 text   -                       not assessed
#   bulgan      3.1.1  g3   count  T 5000      A 5000      c 10000  met
#               3.1.2  g6.2 person T 1200      A 900       c 7500   partial (rev 2, moved)
#               6.1.1  g6.1 person T 2000      (no A)      not assessed
#               6.2.1  g6.2 mnt    T 10000010  A 10000010  c 10000  met
#   ub-bayangol 3.1.1  g6.2 count  T 1000      A 500       c 5000   partial (rev 2, moved)
#               6.1.1  g6.1 person T 3000      A 2000      not assessed (rev 3)
#               6.1.3  g6.1 count  T 0         A 0         c 25000->10000 met
#               6.2.1  g6.2 mnt    T 20000000  A 21000099  c 10500->10000 met
# completion_avg = round-half-away(sum / assessed), e.g. 17167 / 2 = 8583.5 -> 85.84.

# region x goal
hash_equals "$P:region:arkhangai:goal:3" "indicators=2 assessed=2 completion_sum_x100=17167
    completion_avg=85.84 met=0 partial=2 unmet=0
    target_x100:count=12000 achieved_x100:count=11000
    target_x100:mnt=150000050 achieved_x100:mnt=120000025"
# 10000 + 9474 = 19474 / 2 = 9737; pct is counted but not summed
hash_equals "$P:region:arkhangai:goal:6.1" "indicators=2 assessed=2 completion_sum_x100=19474
    completion_avg=97.37 met=1 partial=1 unmet=0
    target_x100:person=4000 achieved_x100:person=4500"
# the text row counts as an indicator, not assessed; achieved 0 is present as "0"
hash_equals "$P:region:arkhangai:goal:6.2" "indicators=2 assessed=1 completion_sum_x100=0
    completion_avg=0.00 met=0 partial=0 unmet=1
    target_x100:mnt=80000000 achieved_x100:mnt=0"
hash_equals "$P:region:bulgan:goal:3" "indicators=1 assessed=1 completion_sum_x100=10000
    completion_avg=100.00 met=1 partial=0 unmet=0
    target_x100:count=5000 achieved_x100:count=5000"
# not assessed: no completion_avg; a target without achieved: only target_x100:person
hash_equals "$P:region:bulgan:goal:6.1" "indicators=1 assessed=0 completion_sum_x100=0
    met=0 partial=0 unmet=0 target_x100:person=2000"
# 7500 + 10000 = 17500 / 2 = 8750
hash_equals "$P:region:bulgan:goal:6.2" "indicators=2 assessed=2 completion_sum_x100=17500
    completion_avg=87.50 met=1 partial=1 unmet=0
    target_x100:person=1200 achieved_x100:person=900
    target_x100:mnt=10000010 achieved_x100:mnt=10000010"
key_absent "$P:region:ub-bayangol:goal:3"
# 6.1.1 not assessed, 6.1.3 met: 10000 / 1; count sums present although 0
hash_equals "$P:region:ub-bayangol:goal:6.1" "indicators=2 assessed=1 completion_sum_x100=10000
    completion_avg=100.00 met=1 partial=0 unmet=0
    target_x100:person=3000 achieved_x100:person=2000
    target_x100:count=0 achieved_x100:count=0"
# 5000 + 10000 = 15000 / 2 = 7500
hash_equals "$P:region:ub-bayangol:goal:6.2" "indicators=2 assessed=2 completion_sum_x100=15000
    completion_avg=75.00 met=1 partial=1 unmet=0
    target_x100:count=1000 achieved_x100:count=500
    target_x100:mnt=20000000 achieved_x100:mnt=21000099"

# regions: 17167 + 19474 + 0 = 36641 / 5 = 7328.2 -> 73.28
hash_equals "$P:region:arkhangai" "indicators=6 assessed=5 completion_sum_x100=36641
    completion_avg=73.28 met=1 partial=3 unmet=1
    target_x100:count=12000 achieved_x100:count=11000
    target_x100:person=4000 achieved_x100:person=4500
    target_x100:mnt=230000050 achieved_x100:mnt=120000025"
# 10000 + 7500 + 10000 = 27500 / 3 = 9166.67 -> 91.67; person 2000 + 1200, achieved 900
hash_equals "$P:region:bulgan" "indicators=4 assessed=3 completion_sum_x100=27500
    completion_avg=91.67 met=2 partial=1 unmet=0
    target_x100:count=5000 achieved_x100:count=5000
    target_x100:person=3200 achieved_x100:person=900
    target_x100:mnt=10000010 achieved_x100:mnt=10000010"
# 10000 + 15000 = 25000 / 3 = 8333.33 -> 83.33
hash_equals "$P:region:ub-bayangol" "indicators=4 assessed=3 completion_sum_x100=25000
    completion_avg=83.33 met=2 partial=1 unmet=0
    target_x100:count=1000 achieved_x100:count=500
    target_x100:person=3000 achieved_x100:person=2000
    target_x100:mnt=20000000 achieved_x100:mnt=21000099"

# goals: g3 = arkhangai 3.1.1, 3.1.2 + bulgan 3.1.1: 9167 + 8000 + 10000 = 27167 / 3
# = 9055.67 -> 90.56
hash_equals "$P:goal:3" "indicators=3 assessed=3 completion_sum_x100=27167
    completion_avg=90.56 met=1 partial=2 unmet=0
    target_x100:count=17000 achieved_x100:count=16000
    target_x100:mnt=150000050 achieved_x100:mnt=120000025"
# g6.1: 5 rows, assessed ark 6.1.1, 6.1.2, ub 6.1.3: 19474 + 10000 = 29474 / 3
# = 9824.67 -> 98.25; person T 4000 + 2000 + 3000, A 4500 + 2000
hash_equals "$P:goal:6.1" "indicators=5 assessed=3 completion_sum_x100=29474
    completion_avg=98.25 met=2 partial=1 unmet=0
    target_x100:person=9000 achieved_x100:person=6500
    target_x100:count=0 achieved_x100:count=0"
# g6.2: 6 rows, assessed 5: 0 + 7500 + 10000 + 5000 + 10000 = 32500 / 5 = 65.00
# mnt T 80000000 + 10000010 + 20000000, A 0 + 10000010 + 21000099
hash_equals "$P:goal:6.2" "indicators=6 assessed=5 completion_sum_x100=32500
    completion_avg=65.00 met=2 partial=2 unmet=1
    target_x100:count=1000 achieved_x100:count=500
    target_x100:person=1200 achieved_x100:person=900
    target_x100:mnt=110000010 achieved_x100:mnt=31000109"

# total: 36641 + 27500 + 25000 = 89141 / 11 = 8103.73 -> 81.04
hash_equals "$P:total" "indicators=14 assessed=11 completion_sum_x100=89141
    completion_avg=81.04 met=5 partial=5 unmet=1
    target_x100:count=18000 achieved_x100:count=16500
    target_x100:person=10200 achieved_x100:person=7400
    target_x100:mnt=260000060 achieved_x100:mnt=151000134"

# The region's last submission: max submitted_at over every record received from it,
# resends and stale revisions included (README: independent of arrival order):
#   arkhangai   2024-07-20T00:00:00Z      = 1721433600000 (stale 3.1.1 rev 1, file 4)
#   bulgan      2024-07-21T00:00:00Z      = 1721520000000 (3.1.2 rev 2 resent, file 4)
#   ub-bayangol 2024-07-07T00:00:00Z      = 1720310400000 (6.1.1 rev 3)
zset_equals "$P:regions" "arkhangai=1721433600000 bulgan=1721520000000
    ub-bayangol=1720310400000"
# The region's first submission (timeliness, SPEC 8): min submitted_at over its records:
#   arkhangai   2024-07-05T10:00:00Z      = 1720173600000 (3.1.1 rev 1, file 1)
#   bulgan      2024-07-04T09:15:00+08:00 = 1720055700000 (3.1.1 rev 1, file 1)
#   ub-bayangol 2024-07-06T00:00:00Z      = 1720224000000 (3.1.1 rev 1, file 2)
zset_equals "$P:regions:first" "arkhangai=1720173600000 bulgan=1720055700000
    ub-bayangol=1720224000000"
set_equals "$P:goals" "3 6.1 6.2"
# completion_avg x 100 of each (region, goal) with assessed > 0
zset_equals "$P:rank:goal:3" "arkhangai=8584 bulgan=10000"
zset_equals "$P:rank:goal:6.1" "arkhangai=9737 ub-bayangol=10000"
zset_equals "$P:rank:goal:6.2" "arkhangai=0 bulgan=8750 ub-bayangol=7500"
hash_field "$P:state" status open
zset_equals "$KEY_PREFIX:quarters" "$Q=20242"

public_keys_equal "$P:total $P:goal:3 $P:goal:6.1 $P:goal:6.2
    $P:region:arkhangai $P:region:bulgan $P:region:ub-bayangol
    $P:region:arkhangai:goal:3 $P:region:arkhangai:goal:6.1 $P:region:arkhangai:goal:6.2
    $P:region:bulgan:goal:3 $P:region:bulgan:goal:6.1 $P:region:bulgan:goal:6.2
    $P:region:ub-bayangol:goal:6.1 $P:region:ub-bayangol:goal:6.2
    $P:regions $P:regions:first $P:goals $P:rank:goal:3 $P:rank:goal:6.1 $P:rank:goal:6.2 $P:state
    $KEY_PREFIX:quarters"

log "second check: tests/reference.py"
reference "$D"/1-initial.csv "$D"/2-ub-and-resends.csv "$D"/3-corrections.csv "$D"/4-late.csv ||
    mismatch "reference.py found differences"

assert_all_passed
