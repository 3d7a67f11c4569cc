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
redis.call('HSET', rk, unpack(fields))
local member = string.format('%015d', redis.call('INCR', P .. 'runs:n')) .. ':' .. id
redis.call('ZADD', P .. 'runs', ARGV[5], member)
redis.call('ZADD', P .. 'runs:a:' .. ARGV[3], ARGV[5], member)
redis.call('ZADD', P .. 'runs:t:' .. ARGV[4], ARGV[5], member)
return {1, redis.call('HGETALL', rk)}
`,
);

/**
 * ARGV: prefix, id, status, endedAt, hasCode, code, hasReason, reason. Only a running run changes,
 * so of concurrent ends the first one wins. Returns the stored fields, or nil when there is no run.
 */
export const endRunScript = new LuaScript(
  'run-end',
  `
local rk = ARGV[1] .. 'run:' .. ARGV[2]
if redis.call('EXISTS', rk) == 0 then return nil end
if redis.call('HGET', rk, 'status') == 'running' then
  redis.call('HSET', rk, 'status', ARGV[3], 'endedAt', ARGV[4])
  if ARGV[5] == '1' then redis.call('HSET', rk, 'stopCode', ARGV[6]) end
  if ARGV[7] == '1' then redis.call('HSET', rk, 'stopReason', ARGV[8]) end
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
