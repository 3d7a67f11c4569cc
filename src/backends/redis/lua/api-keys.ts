import { LuaScript } from '../script.ts';

/**
 * Minted API key scripts. ARGV[1..3] are the hashes `ak` (id -> info JSON), `akh` (sha256 -> id)
 * and `akr` (id -> revocation JSON, written once). JSON is passed through untouched (no cjson, which
 * would round numbers).
 */
const PLACES = `
local AK, AKH, AKR = ARGV[1], ARGV[2], ARGV[3]
local function pair(id)
  return {redis.call('HGET', AK, id) or '', redis.call('HGET', AKR, id) or ''}
end
`;

/** ARGV: places, id, hash, info JSON. 1 when stored; 0 when the id or the hash is taken. */
export const createApiKeyScript = new LuaScript(
  'api-key-create',
  `${PLACES}
if redis.call('HEXISTS', AK, ARGV[4]) == 1 or redis.call('HEXISTS', AKH, ARGV[5]) == 1 then return 0 end
redis.call('HSET', AK, ARGV[4], ARGV[6])
redis.call('HSET', AKH, ARGV[5], ARGV[4])
return 1
`,
);

/** ARGV: places, hash. {info, revocation or ''}, or nil when no key has that hash. */
export const findApiKeyScript = new LuaScript(
  'api-key-find',
  `${PLACES}
local id = redis.call('HGET', AKH, ARGV[4])
if not id then return false end
return pair(id)
`,
);

/** ARGV: places, id. {info or '', revocation or ''}. */
export const getApiKeyScript = new LuaScript(
  'api-key-get',
  `${PLACES}
return pair(ARGV[4])
`,
);

/** ARGV: places, id, revocation JSON. The first revocation stays. {info or '', revocation or '', 1 when this call revoked it else 0}. */
export const revokeApiKeyScript = new LuaScript(
  'api-key-revoke',
  `${PLACES}
local changed = 0
if redis.call('HEXISTS', AK, ARGV[4]) == 1 then changed = redis.call('HSETNX', AKR, ARGV[4], ARGV[5]) end
local out = pair(ARGV[4])
out[3] = changed
return out
`,
);

/** ARGV: places. {every info (id, JSON, ...), every revocation (id, JSON, ...)} from one moment. */
export const listApiKeysScript = new LuaScript(
  'api-key-list',
  `${PLACES}
return {redis.call('HGETALL', AK), redis.call('HGETALL', AKR)}
`,
);
