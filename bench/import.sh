#!/usr/bin/env bash
# Import speed of agg-import (SPEC 11): rows per second on a large generated Word text
# export and a large generated .docx (the same table: 100 objective headings, 2,000
# measures each, a two-row header), and asserts the row count.
#
#   bench/import.sh [--rows-per-goal N] [--report FILE]
#
# With --report, appends an "Import" section to FILE (bench/run.sh passes its report).
# Needs bin/agg-import and python3 (the generator).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGG_BIN=${AGG_BIN:-$ROOT/bin}
PER_GOAL=2000
REPORT=
while (($#)); do
    case $1 in
    --rows-per-goal) PER_GOAL=$2; shift ;;
    --report) REPORT=$2; shift ;;
    *) echo "usage: bench/import.sh [--rows-per-goal N] [--report FILE]" >&2; exit 2 ;;
    esac
    shift
done
OUT=$(mktemp -d "${TMPDIR:-/tmp}/agg-import-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

python3 - "$OUT" "$PER_GOAL" <<'PY'
import os, sys, zipfile
out, per = sys.argv[1], int(sys.argv[2])
head1 = ["Д/д", "Арга хэмжээ", "Шалгуур үзүүлэлт", "Гүйцэтгэлийн түвшин", "", "", "Биелэлтийн хувь"]
head2 = ["", "", "", "Суурь түвшин", "Хүрэх түвшин", "Хүрсэн түвшин", ""]
def rows():
    for g in range(1, 101):
        yield None, "Зорилт %d. Зорилтын ажил" % g
        for m in range(1, per + 1):
            yield ("%d.%d.%d" % (g, m // 100 + 1, m % 100 + 1), "Арга хэмжээ зохион байгуулах",
                   "Сургалтын тоо", str(m), str(m + 5), "%d,%d" % (m + 4, m % 10),
                   "%d,%d %%" % (95, m % 10)), None
with open(os.path.join(out, "big.txt"), "w", encoding="utf-8") as f:
    f.write("БАЯНГОЛ ДҮҮРГИЙН 2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН\n")
    f.write("\t".join(head1) + "\n" + "\t".join(head2) + "\n1\t2\t3\t4\t5\t6\t7\n")
    for r, h in rows():
        f.write((h + "\n") if h else "\t".join(r) + "\n")
from xml.sax.saxutils import escape
def tc(t, span=1):
    pr = '<w:gridSpan w:val="%d"/>' % span if span > 1 else ""
    return "<w:tc><w:tcPr>%s</w:tcPr><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>" % (pr, escape(t))
parts = ['<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
         "<w:p><w:r><w:t>БАЯНГОЛ ДҮҮРГИЙН 2024 ОНЫ ХАГАС ЖИЛИЙН ТАЙЛАН</w:t></w:r></w:p><w:tbl>",
         "<w:tr>" + "".join(tc(t) for t in head1) + "</w:tr>",
         "<w:tr>" + "".join(tc(t) for t in head2) + "</w:tr>"]
for r, h in rows():
    parts.append("<w:tr>" + (tc(h, 7) if h else "".join(tc(t) for t in r)) + "</w:tr>")
parts.append("</w:tbl></w:body></w:document>")
with zipfile.ZipFile(os.path.join(out, "big.docx"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("word/document.xml", "".join(parts))
PY

WANT=$((100 * PER_GOAL))
lines=()
for f in big.txt big.docx; do
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$OUT/$f.time" "$AGG_BIN/agg-import" -q "$OUT/$f" >"$OUT/$f.csv"
    t1=$(date +%s.%N)
    cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$OUT/$f.time")
    got=$(($(wc -l <"$OUT/$f.csv") - 1))
    [[ $got == "$WANT" ]] || { echo "bench/import: $f gave $got rows, expected $WANT" >&2; exit 1; }
    secs=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
    rate=$(awk -v n="$got" -v s="$secs" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }')
    size=$(du -k "$OUT/$f" | cut -f1)
    crate=$(awk -v n="$got" -v s="$cpu" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }')
    echo "import $f: $got rows in $secs s = $rate rows/s; CPU $cpu s = $crate rows/CPU-s (${size} KiB)"
    lines+=("| $f | $got | ${size} KiB | $secs s | $rate rows/s | $cpu s | $crate rows/s |")
done
if [[ -n $REPORT ]]; then
    {
        echo
        echo "## Import (agg-import)"
        echo
        echo "\`bench/import.sh\`: a generated Word text export and .docx of $WANT rows under 100"
        echo "objective headings, two-row header, decimal commas and split percents; wall time"
        echo "of \`agg-import -q FILE > rows.csv\` (read, interpret, write CSV), rows asserted; CPU"
        echo "= user + system time, the figure to compare on a shared machine (load average"
        echo "at the run: $(cut -d' ' -f1 /proc/loadavg))."
        echo
        echo "| input | rows | size | wall | rate | CPU | rate per CPU second |"
        echo "| --- | --- | --- | --- | --- | --- | --- |"
        printf '%s\n' "${lines[@]}"
    } >>"$REPORT"
fi
