#!/usr/bin/env python3
"""Polls a quarter's total and its region hashes as a dashboard would, each poll one
MULTI/EXEC snapshot, until a stop file appears; prints one JSON line.

A snapshot is "mixed" when a count field of the total differs from the sum of that
field over the region hashes: the live path and the replay's swap each change them in
one atomic step, so a reader never sees that. A snapshot is "old" when the total's
`indicators` is at least --old-above (a consistent offset planted before the swap),
else "new". The test asserts: no mixed snapshot, and both old and new ones seen (so the
watch did span the swap)."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import COUNT_FIELDS, Redis, RedisError, parse_redis_url  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--redis-url", required=True)
    ap.add_argument("--quarter-prefix", required=True, help="e.g. agg:2024-Q3")
    ap.add_argument("--regions", required=True, help="comma-separated region codes")
    ap.add_argument("--old-above", type=int, required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    host, port, user, pw, db = parse_redis_url(args.redis_url)
    r = Redis(host, port, password=pw, username=user, db=db)
    regions = [x for x in args.regions.split(",") if x]
    keys = [args.quarter_prefix + ":total"] + \
        ["%s:region:%s" % (args.quarter_prefix, g) for g in regions]
    cmds = [("MULTI",)] + [("HMGET", k) + COUNT_FIELDS for k in keys] + [("EXEC",)]
    polls = old = new = mixed = 0
    first_mixed = None
    order = []  # "old"/"new" runs, in the order seen
    deadline = time.time() + args.max_seconds
    while not os.path.exists(args.stop_file) and time.time() < deadline:
        replies = r.pipeline(cmds)
        snap = replies[-1]
        if isinstance(snap, RedisError) or snap is None:
            raise SystemExit("swap_watch: EXEC failed: %r" % (snap,))
        polls += 1
        as_int = [[int(v or 0) for v in row] for row in snap]
        total, per_region = as_int[0], as_int[1:]
        sums = [sum(row[i] for row in per_region) for i in range(len(COUNT_FIELDS))]
        if total != sums:
            mixed += 1
            if first_mixed is None:
                first_mixed = {"total": dict(zip(COUNT_FIELDS, total)),
                               "regions_sum": dict(zip(COUNT_FIELDS, sums))}
        kind = "old" if total[0] >= args.old_above else "new"
        if kind == "old":
            old += 1
        else:
            new += 1
        if not order or order[-1] != kind:
            order.append(kind)
    print(json.dumps({"polls": polls, "old": old, "new": new, "mixed": mixed,
                      "order": order, "first_mixed": first_mixed}))


if __name__ == "__main__":
    main()
