import { LuaScript } from '../script.ts';

/**
 * Ledger scripts. Every argument arrives as a string and every counter moves with HINCRBY on those
 * strings, so amounts stay exact integers; Lua numbers (doubles, like JS) are used only for the
 * fit test, which therefore decides exactly as rules.ts `fits` does. ARGV[1] is always the prefix.
 */

// Shared head: helpers, and the sweep that releases due holds (a crashed caller's reservations).
const COMMON = `
local P = ARGV[1]

local function tbl(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Take a reservation's holds off its accounts. Never below zero: a negative hold would loosen the limit.
local function unhold(r)
  for i = 1, tonumber(r.n) do
    local a = r['a' .. i]
    if a ~= '0' then
      local k = P .. 'l:' .. r['k' .. i]
      local f = 'r:' .. r['d' .. i]
      if redis.call('HINCRBY', k, f, '-' .. a) < 0 then redis.call('HSET', k, f, '0') end
    end
  end
end

-- Release the holds due by now; forget reservations that expired before cutoff (retention over).
-- At most 4096 per call, so a dead replica's backlog cannot stall Redis in one script; the rest go
-- on the next calls, and until then they only make limits stricter, never looser.
local function sweep(now, cutoff)
  local due = P .. 'rz:due'
  local expired = P .. 'rz:expired'
  for _ = 1, 16 do
    local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, 256)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local rk = P .. 'res:' .. id
      local r = tbl(redis.call('HGETALL', rk))
      if r.n and r.e == '0' then
        unhold(r)
        redis.call('HSET', rk, 'e', '1')
        redis.call('ZADD', expired, r.x, id)
      end
      redis.call('ZREM', due, id)
    end
  end
  local old = redis.call('ZRANGEBYSCORE', expired, '-inf', cutoff, 'LIMIT', 0, 256)
  for _, id in ipairs(old) do
    local rk = P .. 'res:' .. id
    if redis.call('HGET', rk, 'e') == '1' then redis.call('DEL', rk) end
    redis.call('ZREM', expired, id)
  end
end
`;

/**
 * ARGV: prefix, now, cutoff, id, expiresAt, n, then n × (key, dim, amount, limit or ''), then the
 * reservation key's time to live in ms ('' for none).
 * Returns {'ok'} | {'dup'} | {'no', line, used, reserved} (line 1-based, the first that does not fit).
 */
export const reserveScript = new LuaScript(
  'reserve',
  `${COMMON}
sweep(ARGV[2], ARGV[3])
local id = ARGV[4]
local rk = P .. 'res:' .. id
if redis.call('EXISTS', rk) == 1 then return {'dup'} end
local n = tonumber(ARGV[6])
for i = 1, n do
  local b = 6 + (i - 1) * 4
  local limit = ARGV[b + 4]
  if limit ~= '' then
    local key, dim = ARGV[b + 1], ARGV[b + 2]
    local pending = 0
    for j = 1, i - 1 do
      local c = 6 + (j - 1) * 4
      if ARGV[c + 1] == key and ARGV[c + 2] == dim then pending = pending + tonumber(ARGV[c + 3]) end
    end
    local need = tonumber(ARGV[b + 3]) + pending
    local v = redis.call('HMGET', P .. 'l:' .. key, 'u:' .. dim, 'r:' .. dim)
    local used, reserved = v[1] or '0', v[2] or '0'
    if not (tonumber(used) + tonumber(reserved) + need <= tonumber(limit)) then
      return {'no', i, used, reserved}
    end
  end
end
-- Record the reservation first: should anything fail after this, its hold is still released at expiry.
redis.call('ZADD', P .. 'rz:due', ARGV[5], id)
local fields = {'x', ARGV[5], 'e', '0', 'n', ARGV[6]}
for i = 1, n do
  local b = 6 + (i - 1) * 4
  table.insert(fields, 'k' .. i); table.insert(fields, ARGV[b + 1])
  table.insert(fields, 'd' .. i); table.insert(fields, ARGV[b + 2])
  table.insert(fields, 'a' .. i); table.insert(fields, ARGV[b + 3])
  table.insert(fields, 'l' .. i); table.insert(fields, ARGV[b + 4])
end
redis.call('HSET', rk, unpack(fields))
local ttl = ARGV[7 + n * 4]
if ttl and ttl ~= '' then redis.call('PEXPIRE', rk, ttl) end
for i = 1, n do
  local b = 6 + (i - 1) * 4
  if ARGV[b + 3] ~= '0' then redis.call('HINCRBY', P .. 'l:' .. ARGV[b + 1], 'r:' .. ARGV[b + 2], ARGV[b + 3]) end
end
return {'ok'}
`,
);

/**
 * ARGV: prefix, id, valid (1 when every actual is a non-negative safe integer), count, actual...
 * Returns {'unknown'} | {'bad', lines} | {'ok', key, dim, limit, after, ...} per line.
 */
export const settleScript = new LuaScript(
  'settle',
  `${COMMON}
local rk = P .. 'res:' .. ARGV[2]
local flat = redis.call('HGETALL', rk)
if #flat == 0 then return {'unknown'} end
local r = tbl(flat)
local n = tonumber(r.n)
if ARGV[3] ~= '1' or tonumber(ARGV[4]) ~= n then return {'bad', n} end
local holding = r.e == '0'
local out = {'ok'}
for i = 1, n do
  local key, dim, a = r['k' .. i], r['d' .. i], r['a' .. i]
  local k = P .. 'l:' .. key
  if holding and a ~= '0' then
    if redis.call('HINCRBY', k, 'r:' .. dim, '-' .. a) < 0 then redis.call('HSET', k, 'r:' .. dim, '0') end
  end
  local after = redis.call('HINCRBY', k, 'u:' .. dim, ARGV[4 + i])
  table.insert(out, key); table.insert(out, dim); table.insert(out, r['l' .. i]); table.insert(out, after)
end
redis.call('DEL', rk)
redis.call('ZREM', P .. 'rz:due', ARGV[2])
redis.call('ZREM', P .. 'rz:expired', ARGV[2])
return out
`,
);

/** ARGV: prefix, id. Returns 1 when a reservation was dropped. */
export const releaseScript = new LuaScript(
  'release',
  `${COMMON}
local rk = P .. 'res:' .. ARGV[2]
local flat = redis.call('HGETALL', rk)
if #flat == 0 then return 0 end
local r = tbl(flat)
if r.e == '0' then unhold(r) end
redis.call('DEL', rk)
redis.call('ZREM', P .. 'rz:due', ARGV[2])
redis.call('ZREM', P .. 'rz:expired', ARGV[2])
return 1
`,
);

/** ARGV: prefix, now, cutoff, then pairs (key, dim). Returns used, reserved per pair, as strings. */
export const balancesScript = new LuaScript(
  'balances',
  `${COMMON}
sweep(ARGV[2], ARGV[3])
local out = {}
for i = 4, #ARGV, 2 do
  local v = redis.call('HMGET', P .. 'l:' .. ARGV[i], 'u:' .. ARGV[i + 1], 'r:' .. ARGV[i + 1])
  table.insert(out, v[1] or '0'); table.insert(out, v[2] or '0')
end
return out
`,
);

/** ARGV: prefix, key, fingerprint. Returns the count of consecutive identical fingerprints. */
export const repeatScript = new LuaScript(
  'repeat',
  `
local k = ARGV[1] .. 'rep:' .. ARGV[2]
if redis.call('HGET', k, 'f') == ARGV[3] then return redis.call('HINCRBY', k, 'c', 1) end
redis.call('HSET', k, 'f', ARGV[3], 'c', '1')
return 1
`,
);

/** ARGV: prefix, key, dim, delta. Adds delta to used, never below 0; returns {before, after}. */
export const adjustScript = new LuaScript(
  'adjust',
  `
local k = ARGV[1] .. 'l:' .. ARGV[2]
local f = 'u:' .. ARGV[3]
local before = redis.call('HGET', k, f) or '0'
if tonumber(before) + tonumber(ARGV[4]) < 0 then redis.call('HSET', k, f, '0') else redis.call('HINCRBY', k, f, ARGV[4]) end
return {before, redis.call('HGET', k, f)}
`,
);
