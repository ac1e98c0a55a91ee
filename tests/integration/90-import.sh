#!/usr/bin/env bash
# sanitizer: yes
# timeout: 240
#
# agg-import (SPEC 11): the three seeds and the generated .docx fixtures give exactly
# their golden rows; skipped rows are named in the review report with position and
# reason; missing context is an error naming it; --json is one object per line;
# --publish goes through the producer to Kafka and a worker puts exact aggregates in
# Redis.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

D=$TEST_DIR
F=$ROOT/tests/fixtures/import
# Copies of ../shared/seeds (the real documents of DOMAIN.md), so a fresh clone tests them.
SEEDS=${AGG_SEEDS_DIR:-$F/seeds}
S000=$SEEDS/000_a4cf709cc3734867.txt
S001=$SEEDS/001_79d4ce959245e3b1.txt
S003=$SEEDS/003_b02b6c9f83a883dc.txt

# run_import NAME ARGS...: stdout in $D/NAME.csv, report in $D/NAME.err, exit in RC.
run_import() {
    local name=$1
    shift
    RC=0
    timeout 60 "$AGG_BIN/agg-import" "$@" >"$D/$name.csv" 2>"$D/$name.err" || RC=$?
    log "$name: exit $RC, $(($(wc -l <"$D/$name.csv") - 1)) rows"
}
expect_report() { # NAME FIXED-STRING
    grep -qF -- "$2" "$D/$1.err" || mismatch "$1: report lacks '$2'"
}
expect_golden() { # NAME GOLDEN
    diff -u "$2" "$D/$1.csv" >"$D/$1.diff" || mismatch "$1: rows differ from $(basename "$2"): $(head -c 1500 "$D/$1.diff")"
}
# expect_row NAME "region,year,quarter,goal,indicator" "unit,baseline,target,achieved,completion"
expect_row() {
    local got
    got=$(python3 - "$D/$1.csv" "$2" <<'PY'
import csv, sys
key = sys.argv[2]
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    k = ",".join(r.get(c, "") for c in ("region", "year", "quarter", "goal", "indicator"))
    if k == key:
        print(",".join(r.get(c, "") for c in ("unit", "baseline", "target", "achieved", "completion")))
PY
)
    expect_eq "$1: row $2" "$3" "$got"
}

python3 "$F/make_docx.py" "$D"

# 1. The .docx report: merged header cells, numbering row, headings, scale words.
run_import docx-report "$D/report-bayangol-2024h1.docx"
expect_eq "docx report: exit (one unreadable row)" 1 "$RC"
expect_golden docx-report "$F/report-bayangol-2024h1.expected.csv"
expect_row docx-report "ub-bayangol,2024,2,6.1,6.1.1#2" "mnt,1500000,2000000,2400000,120"
expect_row docx-report "ub-bayangol,2024,2,6.2,6.2.1" "mnt,9700000000,10600000000,10650000000,100.5"
expect_report docx-report "table 2 row 4: SKIP skipped: no measure number in the first cell ('А')"
expect_report docx-report "region ub-bayangol (paragraph 2: 'баянгол')"
expect_report docx-report "quarter 2 (paragraph 3: 'хагас жил')"
run_import docx-report-lenient --lenient "$D/report-bayangol-2024h1.docx"
expect_eq "docx report --lenient: exit" 0 "$RC"

# 2. The .docx plan: plan CSV with quarters; Сүхбаатар аймаг, not the district.
run_import docx-plan "$D/plan-sukhbaatar-2025.docx"
expect_eq "docx plan: exit" 0 "$RC"
expect_golden docx-plan "$F/plan-sukhbaatar-2025.expected.csv"

# 2b. Word's own list numbering: the Д/д labels and "Зорилт N." come from numbering.xml.
run_import docx-auto "$D/report-orkhon-2024q3.docx"
expect_eq "docx auto-numbered: exit" 0 "$RC"
expect_golden docx-auto "$F/report-orkhon-2024q3.expected.csv"
expect_report docx-auto "table 1 row 5: heading: objective 2"

# 3. Seed 000: a person's name is not a region, no period cue: both are errors.
run_import s000-bare "$S000"
expect_eq "seed 000 without flags: exit" 1 "$RC"
expect_report s000-bare "ERROR region: no region name of reference/regions.csv in the title; give --region"
expect_report s000-bare "ERROR quarter: no period in the title"
expect_eq "seed 000 without flags: no rows" 0 "$(wc -c <"$D/s000-bare.csv")"
run_import s000 --region khuvsgul --quarter 2 "$S000"
expect_eq "seed 000: exit" 0 "$RC"
expect_golden s000 "$F/seed-000.expected.csv"
# 3.2.1 begins above its number (line 25, one cell short) and continues in lower case
expect_row s000 "khuvsgul,2024,2,3,3.2.1" "text,,,,75.8"
expect_report s000 "line 29: the unnumbered row at line 25 is the top of this row"
expect_row s000 "khuvsgul,2024,2,1,1.1.1" "text,,,,100"
expect_row s000 "khuvsgul,2024,2,4,4.1.1" "text,,,,100"
expect_row s000 "khuvsgul,2024,2,7,7.4" "text,,,,100"
expect_row s000 "khuvsgul,2024,2,2,1.1" "text,,,,100"
expect_report s000 "year 2024 (line 8: '2024 он')"

# 4. Seed 001: prose rows become text; the number inside the measure text.
run_import s001 --quarter 2 "$S001"
expect_eq "seed 001: exit" 0 "$RC"
expect_golden s001 "$F/seed-001.expected.csv"
expect_row s001 "ub-bagakhangai,2024,2,1,1.3" "text,,,,"
expect_row s001 "ub-bagakhangai,2024,2,3,3.1" "text,,,,"
expect_report s001 "line 13: number '1.3' split from the measure text"

# 5. Seed 003: the plan, dropped Төсөв cells, sub-indicators, scale words.
run_import s003 "$S003"
expect_eq "seed 003: exit (heading rows with levels)" 1 "$RC"
run_import s003 --lenient "$S003"
expect_golden s003 "$F/seed-003.expected.csv"
expect_report s003 "line 56: SKIP skipped: the heading row of objective 3 carries levels"
expect_report s003 "line 108: SKIP skipped: levels with no measure number under the heading of objective 7"
# levels checked by hand against the document (a plan has no quarter, achieved, completion)
expect_row s003 "ub-bagakhangai,2026,,1,1.3" "mnt,273100000,273000000,,"
expect_row s003 "ub-bagakhangai,2026,,1,1.4#2" "text,,,,"
expect_row s003 "ub-bagakhangai,2026,,5,5.1" "pct,98.8,100,,"
expect_row s003 "ub-bagakhangai,2026,,6.2,6.2.1" "count,4525,5332.5,,"
expect_row s003 "ub-bagakhangai,2026,,7,7.3" "pct,10,5,,"
expect_row s003 "ub-bagakhangai,2026,,8,8.1#2" "pct,99.94,100,,"
expect_row s003 "ub-bagakhangai,2026,,2,2" "count,,100,,"
grep -q '^ub-bagakhangai,2026,1,1.2,Батлагдсан төлөвлөгөө,mnt,9700000000,10600000000,1-4$' "$D/s003.csv" ||
    mismatch "seed 003: row 1.2"
grep -q '^ub-bagakhangai,2026,10,10.5,Төлөвлөгөөний хэрэгжилтийн хувь,pct,100,100,"2,4"$' "$D/s003.csv" ||
    mismatch "seed 003: row 10.5"

# 5b. Refused inputs: a legacy code page, a broken .docx, garbage; and no crash or hang
# on mutated seeds and fixtures (exit 0, 1 or 2 only; a sanitizer report fails the run).
printf 'Д/д\tШалгуур үзүүлэлт\n\xc0\xe1\xe2\t5\n' >"$D/cp1251.txt"
run_import cp1251 "$D/cp1251.txt"
expect_eq "legacy code page: exit" 1 "$RC"
expect_report cp1251 "line 2: not UTF-8"
head -c 300 "$D/report-bayangol-2024h1.docx" >"$D/broken.docx"
run_import broken "$D/broken.docx"
expect_eq "broken docx: exit" 1 "$RC"
expect_report broken "not a .docx (zip)"
python3 - "$D" "$S000" "$S003" "$D/report-bayangol-2024h1.docx" <<'PY'
import random, sys
random.seed(90)
out = sys.argv[1]
for n, src in enumerate(sys.argv[2:]):
    data = open(src, "rb").read()
    for k in range(6):
        d = bytearray(data)
        if k % 3 == 0:
            for _ in range(40):
                d[random.randrange(len(d))] = random.randrange(256)
        elif k % 3 == 1:
            d = d[: random.randrange(len(d))]
        else:
            for _ in range(150):
                i = random.randrange(len(d))
                d[i:i] = random.choice([b"\t", b"\n", b"|", b"%", b"1.1. ", b"<p>", b"\t\t\t\t\t\t\t\t"])
        open("%s/fuzz-%d-%d" % (out, n, k), "wb").write(d)
PY
for f in "$D"/fuzz-*; do
    rc=0
    timeout 30 "$AGG_BIN/agg-import" --lenient --region tuv --quarter 1 --year 2024 "$f" \
        >/dev/null 2>"$f.err" || rc=$?
    ((rc <= 2)) || mismatch "$(basename "$f"): exit $rc: $(tail -c 600 "$f.err")"
    grep -q 'Sanitizer\|runtime error' "$f.err" && mismatch "$(basename "$f"): $(grep -m1 'Sanitizer\|runtime error' "$f.err")"
done

# 6. --json: one object per line with file, where, kind, message.
run_import s001-json --quarter 2 --json "$S001"
python3 -c '
import json, sys
kinds = [json.loads(l)["kind"] for l in open(sys.argv[1], encoding="utf-8")]
assert kinds.count("row") == 15, kinds
' "$D/s001-json.err" || mismatch "--json: not 15 row objects"

# 7. --publish: the docx report through the producer, a worker, exact aggregates.
run_import publish --lenient --publish -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "$TOPIC_PREFIX" \
    "$D/report-bayangol-2024h1.docx"
expect_eq "--publish: exit" 0 "$RC"
expect_eq "--publish: messages" 6 "$(topic_count "${TOPIC_PREFIX}2024-Q2")"
start_worker worker --exit-idle-ms 3000
wait_exit "$WORKER_PID" 90
((EXIT_RC == 0)) || fail "worker exited with status $EXIT_RC"
P=$KEY_PREFIX:2024-Q2
# 6.1.1 count T 10 A 12 c 120; 6.1.1#2 mnt T 2e6 A 2.4e6 c 120; 6.1.2 person T 1141
# A 1200 c 105.2: all met, completion capped at 100 in the sum.
hash_equals "$P:region:ub-bayangol:goal:6.1" "indicators=3 assessed=3 completion_sum_x100=30000
    completion_avg=100.00 met=3 partial=0 unmet=0
    target_x100:count=1000 achieved_x100:count=1200
    target_x100:mnt=200000000 achieved_x100:mnt=240000000
    target_x100:person=114100 achieved_x100:person=120000"
# 6.2.1 mnt T 10.6e9 A 10.65e9 c 100.5; 6.2.2 text c 100; 6.2.1#2 pct c 110 (not summed)
hash_equals "$P:region:ub-bayangol:goal:6.2" "indicators=3 assessed=3 completion_sum_x100=30000
    completion_avg=100.00 met=3 partial=0 unmet=0
    target_x100:mnt=1060000000000 achieved_x100:mnt=1065000000000"
# the same rows without --publish are what the reference model is given
"$AGG_BIN/agg-import" --lenient -q "$D/report-bayangol-2024h1.docx" >"$D/published.csv" 2>/dev/null || true
reference --ignore '.*:(regions|quarters|state)$' "$D/published.csv" >"$D/reference.out" 2>&1 ||
    mismatch "reference model differs: $(head -c 1500 "$D/reference.out")"

# --publish refuses a document with an unreadable row unless --lenient
run_import publish-strict --publish -b "$AGG_KAFKA_BOOTSTRAP" --topic-prefix "${TOPIC_PREFIX}s." \
    "$D/report-bayangol-2024h1.docx"
expect_eq "--publish without --lenient: exit" 1 "$RC"
expect_report publish-strict "nothing published"
expect_eq "--publish without --lenient: messages" 0 "$(topic_count "${TOPIC_PREFIX}s.2024-Q2")"

assert_all_passed
