-- apply.lua: applies one batch of one partition to Redis in one atomic step.
--
-- The worker computes every delta in C (int64, exact) and passes them here as strings:
-- amounts never pass through Lua numbers, which are doubles and would round above 2^53.
-- The script moves the partition's offset in the same step as the data (effectively
-- once), refuses a batch whose start does not match the stored offset (fences a zombie
-- worker), and refuses it when a record's stored revision is not the one the worker read
-- (compare-and-set: exact even if a district's producer puts one region on two
-- partitions). A refused batch writes nothing: all checks come before the first write.
--
-- ARGV layout (every value a string; worker/apply_args.h names the same positions):
--   1 offsets key     2 partition       3 expected start offset ("" = none stored)
--   4 next offset     5 now ms          6 state key        7 quarters key
--   8 quarter id      9 quarter score  10 regions key     11 goals key
--  12 close marker ("" or requested ms) 13 its partition count  14 its deadline ms
--  15 its requested_by                  16 closed-partitions set key
--  17 regions:first key                 18 scope key base "agg:Q:"
--  19 outbox key     20 topic          21 expected regions (comma-separated)
--  22 valid records in the batch (counted as late records on a closed quarter)
--  23 replay lock key: while it exists, a replay of the quarter runs (SPEC 9) and the
--     live workers hold the quarter's partitions
--  24 n = number of record-state keys (one per region), then n times:
--       key, expected version ("" = none), m, then m times: field (indicator), new state
--     The version ("@v" in the key; '@' is not allowed in indicators) changes with every
--     write of the key: a worker that read the states at another version recomputes.
--   . s = number of scopes, then s times:
--       key, counts key, kind (T|G|R|RG), region, goal, rank key, f, then f times: field, delta
--     A field starting with '#' counts the records that carry the amount field named by
--     the rest; it lives in the counts key and, when it drops to 0, the amount goes too.
--   . r = number of regions, then r times: region, max submitted ms, min submitted ms
--
-- Quarter close (SPEC 8): a close marker ends its batch, so it is applied with its
-- partition's offset, after every record before it. The partition joins the closed set;
-- the step whose marker completes the set (every partition the marker counts) closes
-- the quarter and writes its summary set to the outbox, once: a later marker finds the
-- quarter closed. Records on a partition past its marker are refused (HOLD) until the
-- quarter is closed; after that they are late records, counted for an amendment.
--
-- Returns {"OK", "open"|"closed"|"closed-now"}, {"FENCED", stored offset},
-- {"CONFLICT", key}, {"HOLD"}, {"REPLAY"} or {"OVERFLOW", key, field}.

local CHUNK = 1000 -- field/value pairs per HSET: unpack() of Redis' Lua stops near 8000 values

local off_key, part, expect, next_off, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local state_key, quarters_key, quarter, quarter_score = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local regions_key, goals_key, close_ms = ARGV[10], ARGV[11], ARGV[12]
local marker_parts, marker_deadline, marker_by = ARGV[13], ARGV[14], ARGV[15]
local closed_key, first_key, scope_base, outbox_key = ARGV[16], ARGV[17], ARGV[18], ARGV[19]
local topic, expected_regions, nvalid = ARGV[20], ARGV[21], tonumber(ARGV[22])
local replay_key = ARGV[23]

-- A replay recomputes the quarter from its topic and swaps its result in: nothing of
-- the live path may land in between (the replay's offsets replace these).
if redis.call('EXISTS', replay_key) == 1 then
  return {'REPLAY'}
end

local stored = redis.call('HGET', off_key, part)
if not stored then stored = '' end
if stored ~= expect then
  return {'FENCED', stored}
end

-- Past its marker, a partition waits for the quarter to close: the first summary
-- covers exactly the records before the markers.
local status = redis.call('HGET', state_key, 'status') or 'open'
local past_marker = redis.call('SISMEMBER', closed_key, part) == 1
if past_marker and status ~= 'closed' and nvalid > 0 then
  return {'HOLD'}
end

-- Pass 1: compare-and-set of each region's record states, before any write.
local i = 24
local nkeys = tonumber(ARGV[i]); i = i + 1
local recs_at = i
for _ = 1, nkeys do
  local key, want, m = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local have = redis.call('HGET', key, '@v') or ''
  if have ~= want then
    return {'CONFLICT', key}
  end
  i = i + 3 + m * 2
end
local scopes_at = i

-- Pass 1b: no amount may leave int64. HINCRBY refuses an overflow, but only when it is
-- reached, after earlier writes of this step, and Redis does not roll a failed script
-- back: so the sums are checked here, before the first write. Lua numbers are doubles:
-- a sum is refused when it comes within 2^63 - 9e18 (~2.2e17) of the bound, far beyond
-- any real total (amounts are at most 10^15 hundredths per record).
-- One HMGET per scope for its amount fields: this pre-check is ~10 % of the worker's
-- Redis time on the benchmark, and one call per field made it a few % more.
do
  local j = i
  local nsc = tonumber(ARGV[j]); j = j + 1
  for _ = 1, nsc do
    local key = ARGV[j]
    local nf = tonumber(ARGV[j + 6])
    j = j + 7
    local fields, deltas, na = {}, {}, 0
    for _ = 1, nf do
      local field = ARGV[j]
      local c = string.byte(field, 1)
      if c == 116 or c == 97 then -- 't'arget_x100:… / 'a'chieved_x100:…
        na = na + 1
        fields[na] = field
        deltas[na] = ARGV[j + 1]
      end
      j = j + 2
    end
    if na > 0 then
      local cur = redis.call('HMGET', key, unpack(fields))
      for k = 1, na do
        if math.abs(tonumber(cur[k] or '0') + tonumber(deltas[k])) > 9.0e18 then
          return {'OVERFLOW', key, fields[k]}
        end
      end
    end
  end
end

-- Pass 2: record states, straight from ARGV (no Lua tables: this is the hot loop).
i = recs_at
for _ = 1, nkeys do
  local key, want, m = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  redis.call('HSET', key, '@v', (tonumber(want) or 0) + 1)
  local first, last = i + 3, i + 2 + m * 2
  while first <= last do
    local upto = math.min(first + CHUNK * 2 - 1, last)
    redis.call('HSET', key, unpack(ARGV, first, upto))
    first = upto + 1
  end
  i = last + 1
end

-- Pass 3: scope deltas, then the derived fields of each touched scope.
i = scopes_at
local nscopes = tonumber(ARGV[i]); i = i + 1
for _ = 1, nscopes do
  local key, cnt_key, kind, region, goal, rank_key =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local nf = tonumber(ARGV[i + 6])
  i = i + 7
  for _ = 1, nf do
    local field, delta = ARGV[i], ARGV[i + 1]
    i = i + 2
    if string.byte(field, 1) == 35 then -- '#'
      if redis.call('HINCRBY', cnt_key, field, delta) == 0 then
        redis.call('HDEL', cnt_key, field)
        redis.call('HDEL', key, string.sub(field, 2))
      end
    else
      redis.call('HINCRBY', key, field, delta)
    end
  end
  local cur = redis.call('HMGET', key, 'indicators', 'assessed', 'completion_sum_x100')
  local indicators = tonumber(cur[1] or '0')
  if indicators <= 0 then
    -- Every record of the scope moved away: a from-scratch computation has no such key.
    redis.call('DEL', key, cnt_key)
    if kind == 'RG' then redis.call('ZREM', rank_key, region) end
    if kind == 'G' then redis.call('SREM', goals_key, goal) end
  else
    local assessed = tonumber(cur[2])
    if assessed > 0 then
      local sum = tonumber(cur[3])
      -- Half away from zero; sum >= 0 and both far below 2^53, so this is exact.
      local avg = math.floor((2 * sum + assessed) / (2 * assessed))
      redis.call('HSET', key, 'completion_avg',
        string.format('%d.%02d', math.floor(avg / 100), avg % 100), 'updated_ms', now)
      if kind == 'RG' then redis.call('ZADD', rank_key, avg, region) end
    else
      redis.call('HDEL', key, 'completion_avg')
      redis.call('HSET', key, 'updated_ms', now)
      if kind == 'RG' then redis.call('ZREM', rank_key, region) end
    end
    if kind == 'G' then redis.call('SADD', goals_key, goal) end
  end
end

local nregions = tonumber(ARGV[i]); i = i + 1
for _ = 1, nregions do
  redis.call('ZADD', regions_key, 'GT', ARGV[i + 1], ARGV[i])
  if ARGV[i + 2] ~= '' then
    redis.call('ZADD', first_key, 'LT', ARGV[i + 2], ARGV[i])
  end
  i = i + 3
end

-- A batch of rejects only (or an empty marker batch on an unseen quarter) creates no
-- quarter state for dashboards.
if nvalid > 0 or close_ms ~= '' then
  redis.call('HSETNX', state_key, 'status', 'open')
  redis.call('ZADD', quarters_key, quarter_score, quarter)
end

if past_marker and status == 'closed' and nvalid > 0 then
  -- Late records: applied; an amendment (amend.lua) will absorb them.
  redis.call('HINCRBY', state_key, 'late_pending', nvalid)
  redis.call('HSETNX', state_key, 'amend_first_ms', now)
  redis.call('HSET', state_key, 'amend_last_ms', now)
end

local result = status
if close_ms ~= '' then
  redis.call('HSETNX', state_key, 'partition:' .. part .. ':closed_ms', close_ms)
  redis.call('SADD', closed_key, part)
  -- The first marker applied fixes the count and the deadline of the quarter.
  redis.call('HSETNX', state_key, 'partitions', marker_parts)
  if marker_deadline ~= '' then
    redis.call('HSETNX', state_key, 'deadline_ms', marker_deadline)
  end
  if marker_by ~= '' then
    redis.call('HSETNX', state_key, 'requested_by', marker_by)
  end
  local nclosed = redis.call('SCARD', closed_key)
  redis.call('HSET', state_key, 'partitions_closed', nclosed)
  if status ~= 'closed' and
      nclosed >= (tonumber(redis.call('HGET', state_key, 'partitions')) or math.huge) then
    -- The offsets of the summaries' provenance include this marker's partition.
    redis.call('HSET', off_key, part, next_off)
    redis.call('HSET', state_key, 'status', 'closed', 'closed_ms', now)
    emit_summaries({base = scope_base, qid = quarter, state_key = state_key,
      regions_key = regions_key, goals_key = goals_key, first_key = first_key,
      offsets_key = off_key, topic = topic, outbox_key = outbox_key,
      expected = expected_regions, now = now, late_records = '0', replayed = ''}, 1)
    result = 'closed-now'
  end
end
redis.call('HSET', off_key, part, next_off)
return {'OK', result}
