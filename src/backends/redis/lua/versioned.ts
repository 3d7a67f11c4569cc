import { LuaScript } from '../script.ts';

/**
 * ARGV: state hash, version hash, channel ('' = none), key, expected version, state JSON, message.
 * Stores the state only if the stored version is the expected one (0 = none yet), announcing the
 * change on the channel. Returns {1, new version} or {0, current version, current state JSON or false}.
 */
export const casVersionedScript = new LuaScript(
  'versioned-cas',
  `
local S, V, channel, key = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local v = tonumber(redis.call('HGET', V, key) or '0')
if v ~= tonumber(ARGV[5]) then return {0, v, redis.call('HGET', S, key)} end
redis.call('HSET', V, key, v + 1)
redis.call('HSET', S, key, ARGV[6])
if channel ~= '' then redis.call('PUBLISH', channel, ARGV[7]) end
return {1, v + 1}
`,
);

/** ARGV: state hash, version hash, channel ('' = none), key, message. */
export const deleteVersionedScript = new LuaScript(
  'versioned-delete',
  `
local S, V, channel, key = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HDEL', V, key)
if redis.call('HDEL', S, key) == 1 and channel ~= '' then redis.call('PUBLISH', channel, ARGV[5]) end
return 1
`,
);
