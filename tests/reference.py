#!/usr/bin/env python3
"""Independent reference computation of the Redis aggregates (SPEC 5 and 6).

Reads canonical report CSV files (SPEC 3) in the order given, the order they were
published in, and computes every public key the worker must maintain under a key
prefix, without any of the C code: latest revision per identity (region, year,
quarter, indicator), an equal or lower revision changes nothing (the first one seen
stays). Then compares with Redis and prints every difference.

  reference.py --key-prefix P [--redis-url URL] FILE.csv...    compare, exit 1 on a diff
  reference.py --key-prefix P --dump FILE.csv...               print the expected keys
  reference.py --counts FILE.csv...                            rows per quarter topic
  reference.py --generate N --seed S --quarters 2024-Q3,2024-Q4 --out-dir DIR
                                       deterministic test data (see generate())

Input is assumed valid (the producer's job is tested elsewhere). A row without
submitted_at takes --now (ms); without --now the scores of the regions sorted set are
not compared, only its members.

Python 3 standard library only; speaks RESP to Redis itself.
"""

import argparse
import calendar
import csv
import os
import random
import re
import socket
import sys
import time

COLUMNS = ("region", "year", "quarter", "goal", "indicator", "title", "unit", "baseline",
           "target", "achieved", "completion", "revision", "submitted_at", "report_id")
SUMMED_UNITS = ("count", "person", "mnt")
ALL_UNITS = ("count", "person", "mnt", "pct", "text")
COUNT_FIELDS = ("indicators", "assessed", "completion_sum_x100", "met", "partial", "unmet")
IGNORED_FIELDS = ("updated_ms",)

# --- parsing (SPEC 3) -------------------------------------------------------------------

DECIMAL_RE = re.compile(r"^(-?)(\d*)(?:\.(\d{0,2}))?$")
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def parse_x100(text, what):
    """'12.5' -> 1250, '-0.05' -> -5. Empty -> None."""
    if text == "":
        return None
    m = DECIMAL_RE.match(text)
    if not m or (m.group(2) == "" and not m.group(3)):
        raise ValueError("bad decimal for %s: %r" % (what, text))
    whole = int(m.group(2) or "0")
    frac = int(((m.group(3) or "") + "00")[:2])
    v = whole * 100 + frac
    return -v if m.group(1) else v


def parse_rfc3339_ms(text):
    m = RFC3339_RE.match(text)
    if not m:
        raise ValueError("bad submitted_at %r" % text)
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    ms = int(((m.group(7) or "") + "000")[:3])
    tz = m.group(8)
    off = 0
    if tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        off = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return (calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - off) * 1000 + ms


def read_rows(paths, now_ms):
    """Yields one dict per data row, in file order, with parsed fields."""
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = None
            for lineno, row in enumerate(reader, 1):
                if header is None:
                    header = [h.strip() for h in row]
                    if header and header[0].startswith("\ufeff"):
                        header[0] = header[0][1:]
                    unknown = [h for h in header if h not in COLUMNS]
                    if unknown:
                        raise ValueError("%s: unknown column(s) %s" % (path, unknown))
                    continue
                if not row or row == [""]:
                    continue
                rec = dict(zip(header, row))
                g = lambda k: rec.get(k, "")
                unit = g("unit") or "count"
                if unit not in ALL_UNITS:
                    raise ValueError("%s:%d: bad unit %r" % (path, lineno, unit))
                submitted = g("submitted_at")
                yield {
                    "region": g("region"),
                    "year": int(g("year")),
                    "quarter": int(g("quarter")),
                    "goal": g("goal"),
                    "indicator": g("indicator"),
                    "unit": unit,
                    "target": parse_x100(g("target"), "target"),
                    "achieved": parse_x100(g("achieved"), "achieved"),
                    "completion": parse_x100(g("completion"), "completion"),
                    "revision": int(g("revision") or "1"),
                    "submitted_ms": parse_rfc3339_ms(submitted) if submitted else now_ms,
                }


def quarter_id(year, quarter):
    return "%04d-Q%d" % (year, quarter)


# --- the reference computation (SPEC 5, 6) ------------------------------------------------

def new_scope():
    return {"indicators": 0, "assessed": 0, "completion_sum_x100": 0, "met": 0,
            "partial": 0, "unmet": 0, "sums": {}}


def scope_add(s, r):
    s["indicators"] += 1
    c = r["completion"]
    if c is not None:
        s["assessed"] += 1
        s["completion_sum_x100"] += min(c, 10000)
        if c >= 10000:
            s["met"] += 1
        elif c > 0:
            s["partial"] += 1
        else:
            s["unmet"] += 1
    if r["unit"] in SUMMED_UNITS:
        for what in ("target", "achieved"):
            v = r[what]
            if v is not None:
                k = "%s_x100:%s" % (what, r["unit"])
                s["sums"][k] = s["sums"].get(k, 0) + v


def avg_x100(total, n):
    """Round half away from zero of total / n (total >= 0, n > 0)."""
    return (2 * total + n) // (2 * n)


def scope_fields(s):
    out = {k: str(s[k]) for k in COUNT_FIELDS}
    if s["assessed"] > 0:
        a = avg_x100(s["completion_sum_x100"], s["assessed"])
        out["completion_avg"] = "%d.%02d" % (a // 100, a % 100)
    for k, v in s["sums"].items():
        out[k] = str(v)
    return out


def compute(rows, prefix):
    """Returns {key: (type, value)}: hash -> dict, zset -> {member: score or None},
    set -> set of members. A score None means 'not known' (missing submitted_at)."""
    latest = {}     # identity -> record
    regions = {}    # quarter -> {region: max submitted_ms over every record received}
    unknown = set() # (quarter, region) with a record without submitted_at
    first = {}      # quarter -> {region: min known submitted_ms} (timeliness, SPEC 8)
    for r in rows:
        q = quarter_id(r["year"], r["quarter"])
        # The regions score is "the region's last submission": every valid record
        # counts, resends and stale revisions included (README), so that it does not
        # depend on arrival order or batching.
        zs = regions.setdefault(q, {})
        ms = r["submitted_ms"]
        if ms is None:
            unknown.add((q, r["region"]))
            ms = -1
        zs[r["region"]] = max(zs.get(r["region"], ms), ms)
        if r["submitted_ms"] is not None and r["submitted_ms"] > 0:
            fz = first.setdefault(q, {})
            fz[r["region"]] = min(fz.get(r["region"], r["submitted_ms"]), r["submitted_ms"])
        ident = (r["region"], r["year"], r["quarter"], r["indicator"])
        old = latest.get(ident)
        if old is not None and r["revision"] <= old["revision"]:
            continue  # equal or lower revision: changes nothing
        latest[ident] = r
    for q, region in unknown:
        regions[q][region] = None
        # The producer stamped the record with its own clock: its first submission is
        # known to be there, not when.
        first.setdefault(q, {})[region] = None

    scopes = {}     # key -> scope
    for r in latest.values():
        q = quarter_id(r["year"], r["quarter"])
        base = "%s:%s:" % (prefix, q)
        for suffix in ("total", "goal:" + r["goal"], "region:" + r["region"],
                       "region:%s:goal:%s" % (r["region"], r["goal"])):
            scope_add(scopes.setdefault(base + suffix, new_scope()), r)

    keys = {}
    quarters = {}
    for key, s in scopes.items():
        keys[key] = ("hash", scope_fields(s))
    for r in latest.values():
        q = quarter_id(r["year"], r["quarter"])
        base = "%s:%s:" % (prefix, q)
        quarters[q] = r["year"] * 10 + r["quarter"]
        keys.setdefault(base + "goals", ("set", set()))[1].add(r["goal"])
        keys[base + "state"] = ("state", {"status": "open"})
        s = scopes["%sregion:%s:goal:%s" % (base, r["region"], r["goal"])]
        if s["assessed"] > 0:
            rank = keys.setdefault(base + "rank:goal:" + r["goal"], ("zset", {}))[1]
            rank[r["region"]] = avg_x100(s["completion_sum_x100"], s["assessed"])
    for q, zs in regions.items():
        keys["%s:%s:regions" % (prefix, q)] = ("zset", dict(zs))
    for q, fz in first.items():
        keys["%s:%s:regions:first" % (prefix, q)] = ("zset", dict(fz))
    if quarters:
        keys[prefix + ":quarters"] = ("zset", quarters)
    return keys


# --- a small RESP client --------------------------------------------------------------------

class RedisError(Exception):
    pass


class Redis:
    def __init__(self, host, port, password=None, username=None, db=0, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if password is not None:
            self.call(*(["AUTH", username, password] if username else ["AUTH", password]))
        if db:
            self.call("SELECT", str(db))

    def _send(self, cmds):
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                if not isinstance(a, bytes):
                    a = str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RedisError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RedisError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "surrogateescape")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)

    def pipeline(self, cmds):
        results = []
        for i in range(0, len(cmds), 1000):
            part = cmds[i:i + 1000]
            self._send(part)
            results.extend(self._reply() for _ in part)
        return results

    def call(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, RedisError):
            raise r
        return r


def parse_redis_url(url):
    m = re.match(r"^redis://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/]+)(?::(\d+))?(?:/(\d+))?/?$", url)
    if not m:
        raise ValueError("bad redis url %r" % url)
    user, pw, host, port, db = m.groups()
    if user is not None and pw is None:
        pw, user = user, None
    return host, int(port or 6379), user or None, pw, int(db or 0)


def fetch_actual(r, prefix):
    keys = []
    cursor = "0"
    pattern = prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?") \
        .replace("[", "\\[") + ":*"
    while True:
        cursor, batch = r.call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
        keys.extend(batch)
        if cursor == "0":
            break
    internal = prefix + ":internal:"
    keys = sorted(set(k for k in keys if not k.startswith(internal)))
    types = r.pipeline([("TYPE", k) for k in keys])
    cmds = []
    for k, t in zip(keys, types):
        cmds.append({"hash": ("HGETALL", k), "zset": ("ZRANGE", k, "0", "-1", "WITHSCORES"),
                     "set": ("SMEMBERS", k)}.get(t, ("TYPE", k)))
    values = r.pipeline(cmds)
    actual = {}
    for k, t, v in zip(keys, types, values):
        if isinstance(v, RedisError):
            actual[k] = (t, str(v))
        elif t == "hash":
            actual[k] = (t, dict(zip(v[0::2], v[1::2])))
        elif t == "zset":
            actual[k] = (t, {m: float(s) for m, s in zip(v[0::2], v[1::2])})
        elif t == "set":
            actual[k] = (t, set(v))
        else:
            actual[k] = (t, None)
    return actual


# --- comparison -----------------------------------------------------------------------------

def compare(expected, actual, ignore_patterns):
    diffs = []
    ignored = lambda k: any(re.fullmatch(p, k) for p in ignore_patterns)
    for key in sorted(set(expected) | set(actual)):
        if ignored(key):
            continue
        if key not in actual:
            diffs.append("missing key %s (%s)" % (key, expected[key][0]))
            continue
        if key not in expected:
            diffs.append("extra key %s (%s): %s" % (key, actual[key][0], short(actual[key][1])))
            continue
        et, ev = expected[key]
        at, av = actual[key]
        if et == "state":
            if at != "hash":
                diffs.append("%s: type %s, expected hash" % (key, at))
            elif av.get("status") != ev["status"]:
                diffs.append("%s: field status expected %r got %r"
                             % (key, ev["status"], av.get("status")))
            continue
        if et != at:
            diffs.append("%s: type %s, expected %s" % (key, at, et))
            continue
        if et == "hash":
            av = {f: v for f, v in av.items() if f not in IGNORED_FIELDS}
            for f in sorted(set(ev) | set(av)):
                if f not in av:
                    diffs.append("%s: missing field %s (expected %s)" % (key, f, ev[f]))
                elif f not in ev:
                    diffs.append("%s: extra field %s=%s" % (key, f, av[f]))
                elif ev[f] != av[f]:
                    diffs.append("%s: field %s expected %s got %s" % (key, f, ev[f], av[f]))
        elif et == "zset":
            for m in sorted(set(ev) | set(av)):
                if m not in av:
                    diffs.append("%s: missing member %s (expected score %s)" % (key, m, ev[m]))
                elif m not in ev:
                    diffs.append("%s: extra member %s (score %s)" % (key, m, fmt_score(av[m])))
                elif ev[m] is not None and float(ev[m]) != av[m]:
                    diffs.append("%s: member %s expected score %s got %s"
                                 % (key, m, ev[m], fmt_score(av[m])))
        elif et == "set":
            for m in sorted(ev - av):
                diffs.append("%s: missing member %s" % (key, m))
            for m in sorted(av - ev):
                diffs.append("%s: extra member %s" % (key, m))
    return diffs


def fmt_score(s):
    return str(int(s)) if s == int(s) else repr(s)


def short(v):
    s = repr(v)
    return s if len(s) <= 200 else s[:200] + "..."


def dump(expected, out):
    for key in sorted(expected):
        t, v = expected[key]
        if t in ("hash", "state"):
            body = " ".join("%s=%s" % (f, v[f]) for f in sorted(v))
        elif t == "zset":
            body = " ".join("%s=%s" % (m, "?" if s is None else s)
                            for m, s in sorted(v.items(), key=lambda kv: (kv[1] or 0, kv[0])))
        else:
            body = " ".join(sorted(v))
        out.write("%s %s %s\n" % ("hash" if t == "state" else t, key, body))


# --- deterministic test data ------------------------------------------------------------------

def read_codes(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f)]


def generate(n_rows, seed, quarters, out_dir, root):
    """Writes wave-1.csv ... wave-5.csv into out_dir, about n_rows rows in all.

    wave-1 holds one revision-1 row per identity (30 regions x quarters x indicators);
    waves 2-5 hold the follow-ups, at most one per identity per file (a producer may
    insist that an identity appears once per file), in an order that makes each
    identity's history meaningful: corrections with a higher revision (some moving the
    row to another goal and/or unit), resends of the same revision (identical, or with
    different values that must be ignored), and stale lower revisions sent after a
    correction (also ignored, even though they carry a later submitted_at).
    Returns the number of rows written."""
    rng = random.Random(seed)
    regions = read_codes(os.path.join(root, "reference", "regions.csv"))
    goals = read_codes(os.path.join(root, "reference", "goals.csv"))
    qs = []
    for q in quarters:
        m = re.fullmatch(r"(\d{4})-Q([1-4])", q)
        if not m:
            raise ValueError("bad quarter %r" % q)
        qs.append((int(m.group(1)), int(m.group(2))))
    # About 1.30 rows per identity (base + follow-ups, see below); dividing by less
    # makes sure there are at least n_rows.
    per_identity_rows = 1.26
    n_ident = max(1, int(n_rows / per_identity_rows / (len(regions) * len(qs))) + 1)
    titles = ["Нийгмийн даатгалын шимтгэл", 'Inspection, "planned"', "column one\tcolumn two",
              "Тайлан; хугацаандаа", ""]

    def fmt_x100(v, style):
        """style 0: always two fraction digits; 1: as short as possible (12, 12.5)."""
        sign = "-" if v < 0 else ""
        whole, frac = divmod(abs(v), 100)
        if style == 0:
            return "%s%d.%02d" % (sign, whole, frac)
        if frac == 0:
            return "%s%d" % (sign, whole)
        return ("%s%d.%02d" % (sign, whole, frac)).rstrip("0")

    def values(unit):
        def amount():
            if unit == "mnt":
                v = rng.randint(0, 10 ** 11)
                return -v if rng.random() < 0.02 else v
            if unit in ("count", "person"):
                return rng.randint(0, 500000)
            if unit == "pct":
                return rng.randint(0, 10000)
            return None
        t = amount() if rng.random() < 0.9 else None
        a = amount() if rng.random() < 0.9 else None
        if unit == "text" and rng.random() < 0.8:
            t = a = None
        x = rng.random()
        if x < 0.15:
            c = None
        elif x < 0.25:
            c = 0
        elif x < 0.70:
            c = rng.randint(1, 9999)
        elif x < 0.95:
            c = rng.randint(10000, 15000)
        else:
            c = rng.randint(15001, 100000)
        return t, a, c

    def ts(year, quarter, day_offset):
        # Reports arrive during the month after the quarter ends.
        month = quarter * 3 + 1
        y = year + (1 if month > 12 else 0)
        month = (month - 1) % 12 + 1
        base = calendar.timegm((y, month, 1, 0, 0, 0, 0, 0, 0)) * 1000
        ms = base + day_offset
        if rng.random() < 0.5:
            secs, milli = divmod(ms, 1000)
            tm = time.gmtime(secs)
            return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (tm[:6] + (milli,))
        secs = ms // 1000 + 8 * 3600
        tm = time.gmtime(secs)
        return "%04d-%02d-%02dT%02d:%02d:%02d+08:00" % tm[:6]

    def row(ident, goal, unit, rev, vals, day_offset):
        region, (year, quarter), ind = ident
        t, a, c = vals
        style = rng.randint(0, 1)
        return {
            "region": region, "year": str(year), "quarter": str(quarter), "goal": goal,
            "indicator": ind, "title": rng.choice(titles),
            "unit": unit if (unit != "count" or rng.random() < 0.5) else "",
            "baseline": "" if rng.random() < 0.5 else fmt_x100(rng.randint(0, 10 ** 6), 0),
            "target": "" if t is None else fmt_x100(t, style),
            "achieved": "" if a is None else fmt_x100(a, style),
            "completion": "" if c is None else fmt_x100(c, style),
            "revision": "" if rev == 1 and rng.random() < 0.5 else str(rev),
            "submitted_at": ts(year, quarter, day_offset),
            "report_id": "RPT-%s-%d-Q%d" % (region, year, quarter),
        }

    units = ["count"] * 35 + ["person"] * 20 + ["mnt"] * 25 + ["pct"] * 10 + ["text"] * 10
    waves = [[] for _ in range(5)]
    for qi, (year, quarter) in enumerate(qs):
        for region in regions:
            for i in range(n_ident):
                goal = rng.choice(goals)
                ind = "%s.%d" % (goal, i + 1)
                ident = (region, (year, quarter), ind)
                unit = rng.choice(units)
                vals = values(unit)
                rev = 1
                day = rng.randint(0, 9 * 86400000)
                waves[0].append(row(ident, goal, unit, rev, vals, day))
                # Follow-ups, in this identity's order (wave 2, 3, ...).
                plan = []
                x = rng.random()
                if x < 0.05:
                    plan = ["correct", "correct"]
                elif x < 0.20:
                    plan = ["correct"]
                if rng.random() < 0.05:
                    plan.insert(rng.randint(0, len(plan)), "dup")
                if plan and plan[-1] == "correct" and rng.random() < 0.10:
                    plan.append("stale")
                for w, what in enumerate(plan, 1):
                    # Mostly later, sometimes earlier than the revision it replaces.
                    day += rng.randint(-2 * 86400000 if rng.random() < 0.15 else 1,
                                       5 * 86400000)
                    if what == "correct":
                        rev += rng.randint(1, 3)
                        if rng.random() < 0.15:  # moves to another goal and/or unit
                            goal = rng.choice(goals)
                            if rng.random() < 0.5:
                                unit = rng.choice(units)
                        vals = values(unit)
                        waves[w].append(row(ident, goal, unit, rev, vals, day))
                    elif what == "dup":
                        if rng.random() < 0.5:  # identical resend
                            waves[w].append(row(ident, goal, unit, rev, vals, day))
                        else:  # same revision, other goal/unit/values: must be ignored
                            waves[w].append(row(ident, rng.choice(goals), rng.choice(units),
                                                rev, values(unit), day))
                    else:  # stale: an older revision arrives late
                        waves[w].append(row(ident, rng.choice(goals), unit,
                                            rng.randint(1, rev - 1), values(unit), day))
    total = 0
    os.makedirs(out_dir, exist_ok=True)
    for i, rows in enumerate(waves, 1):
        if i > 1:
            rng.shuffle(rows)
        path = os.path.join(out_dir, "wave-%d.csv" % i)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        total += len(rows)
    return total


# --- main -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="canonical CSV files, in publishing order")
    ap.add_argument("--key-prefix", default=os.environ.get("AGG_KEY_PREFIX", "agg"))
    ap.add_argument("--redis-url", default=os.environ.get("AGG_REDIS_URL",
                                                           "redis://127.0.0.1:6379"))
    ap.add_argument("--now", type=int, default=None,
                    help="submitted_at (ms) of rows that have none")
    ap.add_argument("--dump", action="store_true", help="print the expected keys")
    ap.add_argument("--counts", action="store_true",
                    help="print 'QUARTER ROWS' per quarter (= messages per topic)")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="keys (full match) left out of the comparison")
    ap.add_argument("--max-diffs", type=int, default=200)
    ap.add_argument("--closed", action="append", default=[], metavar="QUARTER",
                    help="a quarter whose close markers were applied: status closed")
    ap.add_argument("--generate", type=int, metavar="N", help="write about N test rows")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quarters", default="2024-Q3")
    ap.add_argument("--out-dir", default=".")
    args = ap.parse_args()

    if args.generate:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        n = generate(args.generate, args.seed, args.quarters.split(","), args.out_dir, root)
        print(n)
        return 0
    if not args.files:
        ap.error("no input files")
    rows = list(read_rows(args.files, args.now))
    if args.counts:
        counts = {}
        for r in rows:
            q = quarter_id(r["year"], r["quarter"])
            counts[q] = counts.get(q, 0) + 1
        for q in sorted(counts):
            print(q, counts[q])
        return 0
    expected = compute(rows, args.key_prefix)
    for q in args.closed:
        key = "%s:%s:state" % (args.key_prefix, q)
        if key in expected:
            expected[key] = ("state", {"status": "closed"})
    if args.dump:
        dump(expected, sys.stdout)
        return 0
    host, port, user, pw, db = parse_redis_url(args.redis_url)
    actual = fetch_actual(Redis(host, port, pw, user, db), args.key_prefix)
    diffs = compare(expected, actual, args.ignore)
    nkeys = len(expected)
    if diffs:
        for d in diffs[:args.max_diffs]:
            print(d)
        if len(diffs) > args.max_diffs:
            print("... and %d more differences" % (len(diffs) - args.max_diffs))
        print("reference: %d differences (%d rows, %d expected keys, %d actual keys)"
              % (len(diffs), len(rows), nkeys, len(actual)))
        return 1
    print("reference: no differences (%d rows, %d keys under %s:)"
          % (len(rows), nkeys, args.key_prefix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
