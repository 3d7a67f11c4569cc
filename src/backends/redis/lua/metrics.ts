import { LuaScript } from '../script.ts';

/**
 * Metric datapoint scripts. A series (one scope and metric) is a hash of row JSON by
 * `<start>|<source>` and a sorted set of the same members by start; `m:series` lists the series so
 * prune can find them. Every write pushes the series' expiry out by the retention period, so a
 * series nobody writes any more disappears by itself.
 */

/** ARGV: prefix, ttlMs, then rows × (series, start, member, JSON). */
export const writeMetricsScript = new LuaScript(
  'metrics-write',
  `
local P, ttl = ARGV[1], ARGV[2]
local touched = {}
for i = 3, #ARGV, 4 do
  local series, start, member, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('HSET', P .. 'mh:' .. series, member, json)
  redis.call('ZADD', P .. 'mz:' .. series, start, member)
  if not touched[series] then
    touched[series] = true
    redis.call('SADD', P .. 'm:series', series)
    redis.call('PEXPIRE', P .. 'mh:' .. series, ttl)
    redis.call('PEXPIRE', P .. 'mz:' .. series, ttl)
  end
end
return 1
`,
);

/** ARGV: prefix, from (inclusive), to (exclusive), series... Returns the rows' JSON. */
export const readMetricsScript = new LuaScript(
  'metrics-read',
  `
local P = ARGV[1]
local out = {}
for i = 4, #ARGV do
  local members = redis.call('ZRANGEBYSCORE', P .. 'mz:' .. ARGV[i], ARGV[2], '(' .. ARGV[3])
  -- In slices: unpack() of thousands of members would overflow the Lua stack.
  for j = 1, #members, 500 do
    local slice = {}
    for k = j, math.min(j + 499, #members) do table.insert(slice, members[k]) end
    for _, json in ipairs(redis.call('HMGET', P .. 'mh:' .. ARGV[i], unpack(slice))) do
      if json then table.insert(out, json) end
    end
  end
end
return out
`,
);

/** ARGV: prefix, before. Deletes rows that started before `before`; returns how many. */
export const pruneMetricsScript = new LuaScript(
  'metrics-prune',
  `
local P = ARGV[1]
local removed = 0
for _, series in ipairs(redis.call('SMEMBERS', P .. 'm:series')) do
  local z, h = P .. 'mz:' .. series, P .. 'mh:' .. series
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. ARGV[2])
  for j = 1, #old, 500 do
    local batch = {}
    for k = j, math.min(j + 499, #old) do table.insert(batch, old[k]) end
    removed = removed + redis.call('HDEL', h, unpack(batch))
    redis.call('ZREM', z, unpack(batch))
  end
  if redis.call('EXISTS', z) == 0 then redis.call('SREM', P .. 'm:series', series) end
end
return removed
`,
);
