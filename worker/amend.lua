-- amend.lua: emits the amended summary set of a closed quarter once its late records
-- have come to rest (SPEC 8): after quiet ms without another late record, or at the
-- latest max-delay ms after the first one. Any worker may run it at any time; the check
-- and the emission are one atomic step, so a burst gives one amendment, whoever runs it.
-- Starts after summary.lua (emit_summaries).
--
-- ARGV: 1 state key  2 now ms  3 quiet ms  4 max delay ms  5 scope key base "agg:Q:"
--       6 quarter id 7 regions key  8 goals key  9 regions:first key  10 offsets key
--       11 topic  12 outbox key  13 expected regions (comma-separated)
-- Returns {"NONE"}, {"WAIT", ms until due} or {"EMITTED", revision}.

local state_key, now = ARGV[1], tonumber(ARGV[2])
local quiet, max_delay = tonumber(ARGV[3]), tonumber(ARGV[4])

local st = redis.call('HMGET', state_key, 'status', 'late_pending', 'amend_first_ms',
  'amend_last_ms', 'summary_revision')
local pending = tonumber(st[2] or '0') or 0
if st[1] ~= 'closed' or pending <= 0 then
  return {'NONE'}
end
local first, last = tonumber(st[3] or '') or now, tonumber(st[4] or '') or now
local due = math.min(last + quiet, first + max_delay)
if now < due then
  return {'WAIT', tostring(due - now)}
end
local rev = (tonumber(st[5] or '0') or 0) + 1
redis.call('HDEL', state_key, 'late_pending', 'amend_first_ms', 'amend_last_ms')
emit_summaries({base = ARGV[5], qid = ARGV[6], state_key = state_key,
  regions_key = ARGV[7], goals_key = ARGV[8], first_key = ARGV[9],
  offsets_key = ARGV[10], topic = ARGV[11], outbox_key = ARGV[12],
  expected = ARGV[13], now = ARGV[2], late_records = tostring(pending), replayed = ''}, rev)
return {'EMITTED', tostring(rev)}
