-- swap.lua: swaps a replay's staged result in for the live keys of its quarter, in one
-- atomic step (SPEC 9): a reader sees all the old values or all the new ones, and keys
-- that the recomputation does not have disappear in the same step. Starts after
-- summary.lua: when the recomputed quarter is closed, the step also writes its summary
-- set to the outbox, with the next revision and replayed = true, and it ends the replay
-- (deletes its lock), so the live workers carry on from the replayed offsets.
--
-- ARGV: 1 replay lock key  2 the replay's member id  3 now ms  4 live state key
--       5 nd, then nd live keys to delete
--       . nr, then nr times: staged key, live key
--       . scope key base "agg:Q:", quarter id, regions key, goals key, regions:first key,
--         offsets key, topic, outbox key, expected regions (comma-separated),
--         quarters key, quarter score
-- Returns {"SWAPPED", revision emitted or ""}, or {"LOST"} (the lock is no longer the
-- replay's: it expired and someone else may be replaying; nothing written).

if redis.call('GET', ARGV[1]) ~= ARGV[2] then
  return {'LOST'}
end
local state_key = ARGV[4]
local old = redis.call('HMGET', state_key, 'status', 'summary_revision')
local i = 5
local nd = tonumber(ARGV[i]); i = i + 1
for _ = 1, nd do
  redis.call('DEL', ARGV[i])
  i = i + 1
end
local nr = tonumber(ARGV[i]); i = i + 1
for _ = 1, nr do
  if redis.call('EXISTS', ARGV[i]) == 1 then
    redis.call('RENAME', ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
local a = {base = ARGV[i], qid = ARGV[i + 1], state_key = state_key,
  regions_key = ARGV[i + 2], goals_key = ARGV[i + 3], first_key = ARGV[i + 4],
  offsets_key = ARGV[i + 5], topic = ARGV[i + 6], outbox_key = ARGV[i + 7],
  expected = ARGV[i + 8], now = ARGV[3], late_records = '0', replayed = '1'}
if redis.call('EXISTS', state_key) == 1 then
  redis.call('ZADD', ARGV[i + 9], ARGV[i + 10], a.qid)
end
local emitted = ''
local new = redis.call('HMGET', state_key, 'status', 'summary_revision')
if new[1] == 'closed' then
  local rev = math.max(tonumber(old[2] or '') or 0, tonumber(new[2] or '') or 0) + 1
  -- The recomputed state holds every late record: nothing is pending an amendment.
  redis.call('HDEL', state_key, 'late_pending', 'amend_first_ms', 'amend_last_ms')
  emit_summaries(a, rev)
  emitted = tostring(rev)
end
redis.call('DEL', ARGV[1])
return {'SWAPPED', emitted}
