#!/usr/bin/env bash
# timeout: 240
# sanitizer: yes
#
# Replay (SPEC 9). A quarter is closed with late rows (revision 2 is an amendment); then:
#  1. replay --verify: equal to the live keys (exit 0), and its own close point is
#     revision 1, field for field;
#  2. live keys corrupted by hand: --verify prints exactly those differences (exit 1)
#     and changes nothing;
#  3. a replay while more rows are published: the corruption is gone, a key that the
#     recomputation does not have is gone, revision 3 is emitted with replayed = true,
#     the live worker carries on from the replayed offsets and counts the rows produced
#     meanwhile exactly once (tests/reference.py over everything);
#  4. a replay lock held by someone else: the replay refuses to start, the live worker
#     holds the quarter until the lock expires, then applies what waited;
#  5. a replay killed with SIGKILL: the live keys are untouched, the next replay runs
#     once its lock has expired.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

Q=2024-Q2
D=$TEST_DIR
P=$KEY_PREFIX:$Q
TOPIC=${TOPIC_PREFIX}$Q
cat >"$D/base.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,submitted_at
arkhangai,2024,2,3,3.1.1,count,10,8,80,2024-07-05T10:00:00Z
arkhangai,2024,2,6.1,6.1.1,mnt,1000000,1200000,120,2024-07-06T00:00:00Z
bulgan,2024,2,3,3.1.1,person,50,25,50,2024-07-12T00:00:00Z
ub-bayangol,2024,2,6.1,6.1.1,count,5,0,0,2024-07-01T00:00:00Z
CSV
cat >"$D/late.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
bulgan,2024,2,3,3.1.1,person,50,50,100,2,2024-07-20T00:00:00Z
CSV
publish "$D/base.csv"
close_quarter "$Q" || fail "close failed"
publish "$D/late.csv"
start_worker worker --amend-quiet-ms 500 --offset-check-ms 200
wait_summaries "$Q" 8 60 # (total + 3 regions) x revisions 1, 2
log "closed, amended: revision 2"


# 1. --verify on untouched keys.
rc=0
replay --quarter "$Q" --verify --json >"$D/verify1.json" 2>"$D/verify1.err" || rc=$?
cat "$D/verify1.err" | tail -2 | sed 's/^/    /'
expect_eq "verify of the live keys: exit" 0 "$rc"
expect_eq "verify: differences" 0 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["differences"])' "$D/verify1.json")"
expect_eq "verify: messages read (4 + 6 markers + 1)" 11 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$D/verify1.json")"
expect_eq "verify: close point" "identical to revision 1" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["close_point"])' "$D/verify1.json")"
expect_eq "verify swaps nothing: summary_revision" 2 "$(rcli HGET "$P:state" summary_revision)"

# 2. Corrupt the live keys; --verify names exactly the corruption.
rcli HSET "$P:total" indicators 999 >/dev/null
rcli HDEL "$P:region:bulgan" met >/dev/null
rcli HSET "$P:goal:99" indicators 1 >/dev/null
rc=0
replay --quarter "$Q" --verify >"$D/verify2.txt" 2>"$D/verify2.err" || rc=$?
expect_eq "verify of corrupted keys: exit" 1 "$rc"
compare_lines "verify's differences (key field live recomputed)" \
    "$(printf '%s\n' "$P:goal:99 indicators 1 -" "$P:region:bulgan met - 1" "$P:total indicators 999 4" | LC_ALL=C sort)" \
    "$(LC_ALL=C sort "$D/verify2.txt")" || true
expect_eq "verify leaves the corruption" 999 "$(rcli HGET "$P:total" indicators)"

# 3. A replay while rows arrive (6 more corrections, one per second or so).
cat >"$D/during.csv" <<'CSV'
region,year,quarter,goal,indicator,unit,target,achieved,completion,revision,submitted_at
ub-bayangol,2024,2,6.1,6.1.1,count,5,5,100,2,2024-07-25T00:00:00Z
arkhangai,2024,2,3,3.1.1,count,10,10,100,2,2024-07-26T00:00:00Z
CSV
( sleep 0.2; produce "$D/during.csv" ) &
producer=$!
replay --quarter "$Q" --json >"$D/replay.json" 2>"$D/replay.err" || fail "replay failed: $(tail -3 "$D/replay.err")"
wait "$producer" || fail "publishing during the replay failed"
tail -1 "$D/replay.err" | sed 's/^/    /'
wait_applied "$TOPIC" $((4 + 6 + 1 + 2)) 60
expect_eq "after the replay: the corrupted field" "" "$(rcli HGET "$P:total" indicators | grep -v '^[0-9]*$' || true)"
key_absent "$P:goal:99"
expect_eq "after the replay: revision" 3 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary_revision"])' "$D/replay.json")"
wait_summaries "$Q" 12 60
summaries "$Q" | python3 -c '
import json, sys
r3 = [json.loads(l) for l in sys.stdin if json.loads(l)["revision"] == 3]
assert len(r3) == 4, "revision 3 has %d summaries" % len(r3)
assert all(s["replayed"] for s in r3), "revision 3 not replayed"
' || mismatch "revision 3 is not a replayed set of 4"
sleep 1.5 # an amendment of the rows that came during the replay (quiet 0.5 s)
reference --closed "$Q" "$D/base.csv" "$D/late.csv" "$D/during.csv" ||
    mismatch "reference.py: not exact after the replay and the rows published during it"

# 4. Someone else's replay lock: refused; the live worker holds the quarter meanwhile.
rcli SET "$KEY_PREFIX:internal:lock:replay:$Q" "someone-else" PX 8000 >/dev/null
rc=0
replay --quarter "$Q" >/dev/null 2>"$D/refused.err" || rc=$?
expect_eq "a second replay: exit" 1 "$rc"
grep -q "a replay of $Q is running" "$D/refused.err" || mismatch "no 'a replay of $Q is running': $(cat "$D/refused.err")"
printf 'region,year,quarter,goal,indicator,completion,revision,submitted_at\nbulgan,2024,2,3,3.1.1,90,3,2024-07-30T00:00:00Z\n' >"$D/held.csv"
produce "$D/held.csv"
sleep 1.5
expect_eq "while the lock exists the row waits (offsets)" $((4 + 6 + 1 + 2)) "$(applied "$TOPIC")"
wait_applied "$TOPIC" $((4 + 6 + 1 + 2 + 1)) 30
log "the held row was applied after the lock expired"

# 5. A replay killed with SIGKILL leaves the live keys alone; the next one runs later.
before=$(rcli HGETALL "$P:total" | paste -d= - - | grep -v '^updated_ms=' | sort)
replay_exec --quarter "$Q" --replay-lock-ms 2000 >/dev/null 2>&1 &
rp=$!
sleep 0.3
kill -KILL "$rp" 2>/dev/null || true
wait "$rp" 2>/dev/null || true
after=$(rcli HGETALL "$P:total" | paste -d= - - | grep -v '^updated_ms=' | sort)
expect_eq "live total after a killed replay" "$before" "$after"
sleep 3.5
rc=0
replay --quarter "$Q" --verify >/dev/null 2>"$D/after-kill.err" || rc=$?
expect_eq "verify after the killed replay's lock expired: exit" 0 "$rc"
reference --closed "$Q" "$D/base.csv" "$D/late.csv" "$D/during.csv" "$D/held.csv" ||
    mismatch "reference.py: not exact at the end"
assert_all_passed
