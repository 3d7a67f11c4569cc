import { LuaScript } from '../script.ts';

/**
 * Approval scripts: the state machine of approvals/transitions.ts (`planCheck`, `planDecide`) in one
 * atomic step each, so of two replicas making the identical call only one consumes an approval.
 * A request is a hash of string fields; `args` stays the canonical JSON text it was given (Lua never
 * decodes it). Times are compared as numbers, exactly as `isDue` does.
 */
const COMMON = `
local P = ARGV[1]
local function effective(r, now)
  if (r.status == 'pending' or r.status == 'approved') and now >= tonumber(r.expiresAt) then return 'expired' end
  return r.status
end
local function tbl(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
`;

/**
 * ARGV: prefix, call key, now, new id, then the field/value pairs of the request to file if one is
 * needed. Returns {outcome, created (1|0), request fields, next request fields (expired only)}.
 */
export const checkApprovalScript = new LuaScript(
  'approval-check',
  `${COMMON}
local callKey = P .. 'apk:' .. ARGV[2]
local now = tonumber(ARGV[3])
local function file()
  local rk = P .. 'apr:' .. ARGV[4]
  local fields = {}
  for i = 5, #ARGV do table.insert(fields, ARGV[i]) end
  redis.call('HSET', rk, unpack(fields))
  redis.call('SET', callKey, ARGV[4])
  redis.call('ZADD', P .. 'ap:order', redis.call('INCR', P .. 'ap:n'), ARGV[4])
  return redis.call('HGETALL', rk)
end
local latest = redis.call('GET', callKey)
local flat = latest and redis.call('HGETALL', P .. 'apr:' .. latest) or {}
if #flat == 0 then return {'pending', 1, file()} end
local rk = P .. 'apr:' .. latest
local status = effective(tbl(flat), now)
if status == 'approved' then
  redis.call('HSET', rk, 'status', 'consumed', 'consumedAt', ARGV[3])
  return {'consumed', 0, redis.call('HGETALL', rk)}
elseif status == 'pending' then
  return {'pending', 0, flat}
elseif status == 'denied' then
  return {'denied', 0, flat}
elseif status == 'expired' then
  redis.call('HSET', rk, 'status', 'expired')
  local expired = redis.call('HGETALL', rk)
  return {'expired', 1, expired, file()}
end
-- consumed: single use, the identical call needs a new approval
return {'pending', 1, file()}
`,
);

/**
 * ARGV: prefix, id, now, status, by, hasReason, reason.
 * Returns {'unknown'} | {'not-pending', wrote (1|0), fields} | {'ok', 1, fields}.
 */
export const decideApprovalScript = new LuaScript(
  'approval-decide',
  `${COMMON}
local rk = P .. 'apr:' .. ARGV[2]
local flat = redis.call('HGETALL', rk)
if #flat == 0 then return {'unknown'} end
local r = tbl(flat)
local status = effective(r, tonumber(ARGV[3]))
if status ~= 'pending' then
  if status ~= r.status then
    redis.call('HSET', rk, 'status', status)
    return {'not-pending', 1, redis.call('HGETALL', rk)}
  end
  return {'not-pending', 0, flat}
end
redis.call('HSET', rk, 'status', ARGV[4], 'decidedAt', ARGV[3], 'decidedBy', ARGV[5])
if ARGV[6] == '1' then redis.call('HSET', rk, 'reason', ARGV[7]) end
return {'ok', 1, redis.call('HGETALL', rk)}
`,
);
