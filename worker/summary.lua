-- summary.lua: the content of a quarter's summary set, taken inside the atomic step that
-- decides it (the close in apply.lua, an amendment in amend.lua; both scripts start
-- with this file). Each summary goes to the outbox as one JSON object whose numbers are
-- all strings: they are int64 amounts that a Lua number (a double) would round, and the
-- C sender parses them exactly. The sender turns them into protobuf Summary messages.

-- A scope hash as a table of its fields, without updated_ms (not part of a summary).
local function scope_fields(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for k = 1, #flat, 2 do
    if flat[k] ~= 'updated_ms' then t[flat[k]] = flat[k + 1] end
  end
  return t
end

-- "87.50": part / whole as a percent, half away from zero (both small integers).
local function rate(part, whole)
  if whole <= 0 then return '0.00' end
  local v = math.floor((2 * part * 10000 + whole) / (2 * whole))
  return string.format('%d.%02d', math.floor(v / 100), v % 100)
end

local function split_csv(s)
  local t = {}
  for item in string.gmatch(s or '', '[^,]+') do t[#t + 1] = item end
  return t
end

-- Writes the summary set of revision `rev` to the outbox and the completeness fields
-- to the state hash. a: base (agg:Q:), qid, state_key, regions_key, goals_key,
-- first_key, offsets_key, topic, outbox_key, expected (csv), now, late_records,
-- replayed ('1' or '').
local function emit_summaries(a, rev)
  local state = a.state_key
  local deadline = tonumber(redis.call('HGET', state, 'deadline_ms') or '')
  local closed_ms = redis.call('HGET', state, 'closed_ms') or a.now
  local partitions = redis.call('HGET', state, 'partitions') or ''

  local goals = redis.call('SMEMBERS', a.goals_key)
  table.sort(goals)
  local reported = redis.call('ZRANGE', a.regions_key, 0, -1)
  table.sort(reported)
  local first = {}
  local fz = redis.call('ZRANGE', a.first_key, 0, -1, 'WITHSCORES')
  for k = 1, #fz, 2 do first[fz[k]] = fz[k + 1] end

  local expected = split_csv(a.expected)
  local is_reported = {}
  for _, r in ipairs(reported) do is_reported[r] = true end
  local n_reported, n_on_time, missing, late = 0, 0, {}, {}
  for _, r in ipairs(expected) do
    if is_reported[r] then
      n_reported = n_reported + 1
      local f = tonumber(first[r] or '')
      if deadline and f and f <= deadline then n_on_time = n_on_time + 1 end
    else
      missing[#missing + 1] = r
    end
  end
  table.sort(missing)
  for _, r in ipairs(reported) do
    local f = tonumber(first[r] or '')
    if not (deadline and f and f <= deadline) then late[#late + 1] = r end
  end

  local offsets = {}
  local oz = redis.call('HGETALL', a.offsets_key)
  for k = 1, #oz, 2 do offsets[#offsets + 1] = oz[k] .. ':' .. oz[k + 1] end
  table.sort(offsets)

  local common = function(scope)
    return {
      id = a.qid .. '/' .. scope .. '/' .. rev, quarter = a.qid, scope = scope,
      revision = tostring(rev), replayed = a.replayed, closed_ms = closed_ms,
      emitted_ms = a.now, deadline_ms = deadline and string.format('%d', deadline) or '',
      late_records = a.late_records, topic = a.topic,
      offsets = table.concat(offsets, ','), partitions = partitions,
    }
  end

  local total = common('total')
  total.totals = scope_fields(a.base .. 'total')
  total.goals = {}
  for _, g in ipairs(goals) do
    total.goals[#total.goals + 1] = {goal = g, totals = scope_fields(a.base .. 'goal:' .. g)}
  end
  total.regions_expected = tostring(#expected)
  total.regions_reported = tostring(n_reported)
  total.regions_on_time = tostring(n_on_time)
  total.regions_missing = table.concat(missing, ',')
  total.regions_late = table.concat(late, ',')
  total.reporting_rate = rate(n_reported, #expected)
  total.on_time_rate = rate(n_on_time, #expected)
  redis.call('RPUSH', a.outbox_key, cjson.encode(total))

  for _, r in ipairs(reported) do
    local s = common('region:' .. r)
    local rbase = a.base .. 'region:' .. r
    s.totals = scope_fields(rbase)
    s.goals = {}
    for _, g in ipairs(goals) do
      local gk = rbase .. ':goal:' .. g
      if redis.call('EXISTS', gk) == 1 then
        s.goals[#s.goals + 1] = {goal = g, totals = scope_fields(gk)}
      end
    end
    local f = tonumber(first[r] or '')
    s.first_submitted_ms = f and string.format('%d', f) or ''
    s.on_time = (deadline and f and f <= deadline) and '1' or '0'
    redis.call('RPUSH', a.outbox_key, cjson.encode(s))
  end

  redis.call('HSET', state, 'summary_revision', rev,
    'regions_expected', #expected, 'regions_reported', n_reported,
    'regions_on_time', n_on_time, 'regions_missing', table.concat(missing, ','),
    'reporting_rate', total.reporting_rate, 'on_time_rate', total.on_time_rate)
  return 1 + #reported
end
