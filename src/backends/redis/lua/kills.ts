import { LuaScript } from '../script.ts';

/**
 * Kill-switch scripts. Every change gets a version, written beside it (`killv`, kept after a clear)
 * and sent with its message, so a replica never lets an older snapshot or message undo a newer
 * change. Versions are Redis TIME in µs (or last + 1), so they keep growing even if Redis restarts
 * empty. ARGV[1] is the prefix; the message is built here because only here is the version known
 * (string.format, not cjson: cjson would round a 16-digit number).
 */
const COMMON = `
local P = ARGV[1]
local function nextVersion()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', P .. 'killn') or '0')
  local v = math.max(now, last + 1)
  local text = string.format('%d', v)
  redis.call('SET', P .. 'killn', text)
  return text
end
local function announce(origin, scope, v, info)
  local message = '{"o":' .. cjson.encode(origin) .. ',"s":' .. cjson.encode(scope) .. ',"v":' .. v .. ',"i":' .. (info or 'null') .. '}'
  redis.call('PUBLISH', P .. 'kills', message)
end
`;

/** ARGV: prefix, origin, scope, info JSON. Returns the version. */
export const setKillScript = new LuaScript(
  'kill-set',
  `${COMMON}
local v = nextVersion()
redis.call('HSET', P .. 'kills', ARGV[3], ARGV[4])
redis.call('HSET', P .. 'killv', ARGV[3], v)
announce(ARGV[2], ARGV[3], v, ARGV[4])
return v
`,
);

/** ARGV: prefix, origin, scope. Returns the version, or false when there was nothing to clear. */
export const clearKillScript = new LuaScript(
  'kill-clear',
  `${COMMON}
if redis.call('HDEL', P .. 'kills', ARGV[3]) == 0 then return false end
local v = nextVersion()
redis.call('HSET', P .. 'killv', ARGV[3], v)
announce(ARGV[2], ARGV[3], v, nil)
return v
`,
);

/** ARGV: prefix. Returns {kills hash, versions hash} from one moment. */
export const readKillsScript = new LuaScript(
  'kill-read',
  `
return {redis.call('HGETALL', ARGV[1] .. 'kills'), redis.call('HGETALL', ARGV[1] .. 'killv')}
`,
);
