import { LuaScript } from '../script.ts';

/**
 * Token-bucket scripts: the arithmetic of core/token-bucket.ts `refill` and rules.ts `takeFrom` /
 * `creditTo`, statement for statement, in doubles as in JS, so every replica decides and reports
 * the wait exactly as the memory store does. Token counts are stored with %.17g (exact round trip).
 *
 * ARGV: prefix, now, n, then n × (key, capacity, windowMs, amount, ttlMs).
 */
const COMMON = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local states, loaded, order, ttl = {}, {}, {}, {}

local function arg(i, f) return ARGV[3 + (i - 1) * 5 + f] end

local function slack(cap) return math.max(1e-9, cap * 1e-12) end

local function load(key)
  if not loaded[key] then
    loaded[key] = true
    table.insert(order, key)
    local v = redis.call('HMGET', P .. 'b:' .. key, 't', 'u')
    if v[1] then states[key] = {t = tonumber(v[1]), u = tonumber(v[2])} end
  end
  return states[key]
end

local function refill(s, cap, win)
  if not s then return {t = cap, u = now} end
  local elapsed = math.max(0, now - s.u)
  return {t = math.min(cap, s.t + (elapsed * cap) / win), u = math.max(now, s.u)}
end

local function save()
  for _, key in ipairs(order) do
    local s = states[key]
    local k = P .. 'b:' .. key
    redis.call('HSET', k, 't', string.format('%.17g', s.t), 'u', string.format('%.17g', s.u))
    redis.call('PEXPIRE', k, ttl[key])
  end
end

-- Bring bucket i up to now (as rules.ts does, once per line: a bucket named twice is refilled twice).
local function refillLine(i)
  local key = arg(i, 1)
  states[key] = refill(load(key), tonumber(arg(i, 2)), tonumber(arg(i, 3)))
  local t = tonumber(arg(i, 5))
  if not ttl[key] or t > ttl[key] then ttl[key] = t end
  return states[key]
end
`;

/** Returns {1} when taken, or {0, bucket (1-based), retryAfterMs as %.17g}. */
export const takeScript = new LuaScript(
  'take',
  `${COMMON}
for i = 1, n do refillLine(i) end
local worst, worstWait = -1, 0
for i = 1, n do
  local key, cap, win, amount = arg(i, 1), tonumber(arg(i, 2)), tonumber(arg(i, 3)), tonumber(arg(i, 4))
  local s = states[key]
  local before = 0
  for j = 1, i - 1 do
    if arg(j, 1) == key then before = before + tonumber(arg(j, 4)) end
  end
  local need = amount + before
  if not (s.t + slack(cap) >= need) then
    local wait
    if need > cap then
      wait = win
    else
      wait = math.max(1, math.ceil(((need - s.t) * win) / cap - 1e-6))
      if s.t + (wait * cap) / win + slack(cap) < need then wait = wait + 1 end
    end
    if wait > worstWait then
      worst = i
      worstWait = wait
    end
  end
end
if worst >= 0 then return {0, worst, string.format('%.17g', worstWait)} end
for i = 1, n do
  local s = states[arg(i, 1)]
  s.t = math.max(0, s.t - tonumber(arg(i, 4)))
end
save()
return {1}
`,
);

/** Gives tokens back, never above capacity. */
export const creditScript = new LuaScript(
  'credit',
  `${COMMON}
for i = 1, n do
  local s = refillLine(i)
  s.t = math.min(tonumber(arg(i, 2)), s.t + tonumber(arg(i, 4)))
end
save()
return 1
`,
);
