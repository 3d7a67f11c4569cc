import { LuaScript } from '../script.ts';

/**
 * Run scripts. A run is a hash of string fields; the indexes are sorted sets by startedAt whose
 * members start with a 15-digit creation number, so runs that started in the same ms list newest
 * created first (ZREVRANGE orders equal scores by member, descending).
 */

/**
 * ARGV: prefix, id, agent, tenant, startedAt, then field/value pairs.
 * Returns {1, fields} when created, {0, fields} with the stored run when it existed.
 */
export const createRunScript = new LuaScript(
  'run-create',
  `
local P, id = ARGV[1], ARGV[2]
local rk = P .. 'run:' .. id
if redis.call('EXISTS', rk) == 1 then return {0, redis.call('HGETALL', rk)} end
local fields = {}
for i = 6, #ARGV do table.insert(fields, ARGV[i]) end
local member = string.format('%015d', redis.call('INCR', P .. 'runs:n')) .. ':' .. id
-- _m: the run's index member, so retention can find it in every index.
table.insert(fields, '_m'); table.insert(fields, member)
redis.call('HSET', rk, unpack(fields))
redis.call('ZADD', P .. 'runs', ARGV[5], member)
redis.call('ZADD', P .. 'runs:a:' .. ARGV[3], ARGV[5], member)
redis.call('ZADD', P .. 'runs:t:' .. ARGV[4], ARGV[5], member)
return {1, redis.call('HGETALL', rk)}
`,
);

/**
 * ARGV: prefix, id, status, endedAt, hasCode, code, hasReason, reason, ttl (ms after the end; '' for
 * none). Only a running run changes, so of concurrent ends the first one wins; an ended run goes into
 * `runs:ended` (member: agent, tenant and its index member, by endedAt) for retention, and with a ttl
 * its record and ledger account expire that long after the end (a backstop behind the pruner).
 * Returns the stored fields, or nil when there is no run.
 */
export const endRunScript = new LuaScript(
  'run-end',
  `
local P, id = ARGV[1], ARGV[2]
local rk = P .. 'run:' .. id
if redis.call('EXISTS', rk) == 0 then return nil end
if redis.call('HGET', rk, 'status') == 'running' then
  redis.call('HSET', rk, 'status', ARGV[3], 'endedAt', ARGV[4])
  if ARGV[5] == '1' then redis.call('HSET', rk, 'stopCode', ARGV[6]) end
  if ARGV[7] == '1' then redis.call('HSET', rk, 'stopReason', ARGV[8]) end
  local v = redis.call('HMGET', rk, 'agent', 'tenant', '_m')
  if v[3] then redis.call('ZADD', P .. 'runs:ended', ARGV[4], v[1] .. '\\n' .. v[2] .. '\\n' .. v[3]) end
  if ARGV[9] ~= '' then
    redis.call('PEXPIRE', rk, ARGV[9])
    redis.call('PEXPIRE', P .. 'l:run:' .. id, ARGV[9])
  end
end
return redis.call('HGETALL', rk)
`,
);

/**
 * ARGV: prefix, agent, tenant, status, limit (-1: none). A filter is '' when absent, else '=' and
 * the value. Returns one field array per run, newest first.
 */
export const listRunsScript = new LuaScript(
  'run-list',
  `
local P, limit = ARGV[1], tonumber(ARGV[5])
local function want(f) if f == '' then return nil end return string.sub(f, 2) end
local agent, tenant, status = want(ARGV[2]), want(ARGV[3]), want(ARGV[4])
local index = P .. 'runs'
if agent then index = P .. 'runs:a:' .. agent elseif tenant then index = P .. 'runs:t:' .. tenant end
local out = {}
if limit == 0 then return out end
local start = 0
while true do
  local members = redis.call('ZREVRANGE', index, start, start + 199)
  if #members == 0 then break end
  for _, m in ipairs(members) do
    local rk = P .. 'run:' .. string.sub(m, 17)
    local v = redis.call('HMGET', rk, 'agent', 'tenant', 'status')
    if v[1] and (not agent or v[1] == agent) and (not tenant or v[2] == tenant) and (not status or v[3] == status) then
      table.insert(out, redis.call('HGETALL', rk))
      if limit > 0 and #out >= limit then return out end
    end
  end
  start = start + 200
end
return out
`,
);

/** The run count's field name in the period totals (no ledger dimension starts with '#'). */
const COMMON = `
local function split3(m)
  local a = string.find(m, '\\n', 1, true)
  local b = string.find(m, '\\n', a + 1, true)
  return string.sub(m, 1, a - 1), string.sub(m, a + 1, b - 1), string.sub(m, b + 1)
end
`;

/**
 * Retention. ARGV: prefix, rollBefore ('' none), deleteBefore ('' none), limit, n, then n dims.
 * Roll: runs in \`runs:ended\` ended before rollBefore: a root run adds its dims and 1 to \`#runs\` in
 * \`rt:<day>\` (field tenant, agent and dim joined by newlines; \`rt:days\` the set of days), then its
 * ledger account and repeat trackers are deleted and it moves to \`runs:rolled\`. Delete: runs in
 * \`runs:rolled\` ended before deleteBefore leave every index and their record is deleted.
 * Returns {rolled, deleted}.
 */
export const pruneRunsScript = new LuaScript(
  'run-prune',
  `${COMMON}
local P, rollBefore, deleteBefore, limit, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local rolled, deleted = 0, 0
if rollBefore ~= '' then
  local ms = redis.call('ZRANGEBYSCORE', P .. 'runs:ended', '-inf', '(' .. rollBefore, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #ms, 2 do
    local m, ended = ms[i], ms[i + 1]
    local agent, tenant, member = split3(m)
    local id = string.sub(member, 17)
    local rk = P .. 'run:' .. id
    local lk = P .. 'l:run:' .. id
    local v = redis.call('HMGET', rk, 'depth', 'startedAt')
    if v[1] == '0' then
      local day = string.format('%d', math.floor(tonumber(v[2]) / 86400000))
      local tk = P .. 'rt:' .. day
      local head = tenant .. '\\n' .. agent .. '\\n'
      redis.call('SADD', P .. 'rt:days', day)
      redis.call('HINCRBY', tk, head .. '#runs', 1)
      for j = 1, n do
        local u = redis.call('HGET', lk, 'u:' .. ARGV[5 + j])
        if u and u ~= '0' then redis.call('HINCRBY', tk, head .. ARGV[5 + j], u) end
      end
    end
    redis.call('DEL', lk, P .. 'rep:run:' .. id .. ':output', P .. 'rep:run:' .. id .. ':tool-outcome')
    if v[1] then redis.call('HSET', rk, 'rolled', '1') end
    redis.call('ZREM', P .. 'runs:ended', m)
    redis.call('ZADD', P .. 'runs:rolled', ended, m)
    rolled = rolled + 1
  end
end
if deleteBefore ~= '' then
  local ms = redis.call('ZRANGEBYSCORE', P .. 'runs:rolled', '-inf', '(' .. deleteBefore, 'LIMIT', 0, limit)
  for _, m in ipairs(ms) do
    local agent, tenant, member = split3(m)
    redis.call('DEL', P .. 'run:' .. string.sub(member, 17))
    redis.call('ZREM', P .. 'runs', member)
    redis.call('ZREM', P .. 'runs:a:' .. agent, member)
    redis.call('ZREM', P .. 'runs:t:' .. tenant, member)
    redis.call('ZREM', P .. 'runs:rolled', m)
    deleted = deleted + 1
  end
end
return {rolled, deleted}
`,
);

/**
 * ARGV: prefix, tenant filter, agent filter ('' or '=' and the value), n, then n dims. Returns the
 * root run count, then the used amount per dim, as strings: period totals plus unrolled root runs.
 */
export const runTotalsScript = new LuaScript(
  'run-totals',
  `${COMMON}
local P, n = ARGV[1], tonumber(ARGV[4])
local function want(f) if f == '' then return nil end return string.sub(f, 2) end
local tenant, agent = want(ARGV[2]), want(ARGV[3])
local runs = 0
local used = {}
local index = {}
for j = 1, n do used[j] = 0; index[ARGV[4 + j]] = j end
for _, day in ipairs(redis.call('SMEMBERS', P .. 'rt:days')) do
  local flat = redis.call('HGETALL', P .. 'rt:' .. day)
  for i = 1, #flat, 2 do
    local t, a, dim = split3(flat[i])
    if (not tenant or t == tenant) and (not agent or a == agent) then
      if dim == '#runs' then runs = runs + tonumber(flat[i + 1])
      elseif index[dim] then used[index[dim]] = used[index[dim]] + tonumber(flat[i + 1]) end
    end
  end
end
local idx = P .. 'runs'
if agent then idx = P .. 'runs:a:' .. agent elseif tenant then idx = P .. 'runs:t:' .. tenant end
local start = 0
while true do
  local members = redis.call('ZRANGE', idx, start, start + 499)
  if #members == 0 then break end
  for _, m in ipairs(members) do
    local id = string.sub(m, 17)
    local v = redis.call('HMGET', P .. 'run:' .. id, 'agent', 'tenant', 'depth', 'rolled')
    if v[1] and v[3] == '0' and not v[4] and (not agent or v[1] == agent) and (not tenant or v[2] == tenant) then
      runs = runs + 1
      local lk = P .. 'l:run:' .. id
      for j = 1, n do
        local u = redis.call('HGET', lk, 'u:' .. ARGV[4 + j])
        if u then used[j] = used[j] + tonumber(u) end
      end
    end
  end
  start = start + 500
end
local out = {string.format('%.0f', runs)}
for j = 1, n do table.insert(out, string.format('%.0f', used[j])) end
return out
`,
);
