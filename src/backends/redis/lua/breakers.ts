import { LuaScript } from '../script.ts';

/**
 * ARGV: prefix, scope, expected version, state JSON, message. Stores the state only if the stored
 * version is the expected one (0 = none yet), announcing the change on the breaker channel.
 * Returns {1, new version} or {0, current version, current state JSON or false}.
 */
export const casBreakerScript = new LuaScript(
  'breaker-cas',
  `
local P, scope = ARGV[1], ARGV[2]
local v = tonumber(redis.call('HGET', P .. 'br:v', scope) or '0')
if v ~= tonumber(ARGV[3]) then return {0, v, redis.call('HGET', P .. 'br:s', scope)} end
redis.call('HSET', P .. 'br:v', scope, v + 1)
redis.call('HSET', P .. 'br:s', scope, ARGV[4])
redis.call('PUBLISH', P .. 'breakers', ARGV[5])
return {1, v + 1}
`,
);

/** ARGV: prefix, scope, message. */
export const deleteBreakerScript = new LuaScript(
  'breaker-delete',
  `
local P, scope = ARGV[1], ARGV[2]
redis.call('HDEL', P .. 'br:v', scope)
if redis.call('HDEL', P .. 'br:s', scope) == 1 then redis.call('PUBLISH', P .. 'breakers', ARGV[3]) end
return 1
`,
);
