import { type ApiKeyInfo, type ApiKeyRecord, type ApiKeyStore, keyInfo } from '../../store/api-keys.ts';
import type { RedisHandle } from './handle.ts';
import { createApiKeyScript, findApiKeyScript, getApiKeyScript, listApiKeysScript, revokeApiKeyScript } from './lua/api-keys.ts';

type Stored = ApiKeyInfo & { hash?: string };

/** Info JSON and revocation JSON ('' when absent) as one record; undefined when there is no info. */
function merge(info: string, revocation: string): Stored | undefined {
  if (info === '') return undefined;
  const record = JSON.parse(info) as Stored;
  if (revocation !== '') {
    const r = JSON.parse(revocation) as { at: number; by: string };
    Object.assign(record, { revokedAt: r.at, revokedBy: r.by });
  }
  return record;
}

/**
 * Minted API keys in three Redis hashes under the store's prefix (keys.ts): `ak` (id -> the key's
 * info, hash included), `akh` (hash -> id) and `akr` (id -> its revocation). A lookup is one script
 * (one round trip) on every request, so a revocation holds on every replica from its next request on.
 * Failures reject with `store.unavailable` (never failed open: an unknown key is never let in).
 */
export function createRedisApiKeyStore(handle: RedisHandle): ApiKeyStore {
  const { gate } = handle;
  const p = handle.keys.prefix;
  const places = [`${p}ak`, `${p}akh`, `${p}akr`];
  const pairOf = async (what: string, script: typeof getApiKeyScript, args: string[]) =>
    (await gate.run(`api key ${what}`, (redis) => script.run(redis, [...places, ...args]))) as [string, string] | null;
  return {
    async create(record: ApiKeyRecord) {
      const { revokedAt: _at, revokedBy: _by, ...stored } = record;
      const reply = await gate.run('api key create', (redis) => createApiKeyScript.run(redis, [...places, record.id, record.hash, JSON.stringify(stored)]));
      return Number(reply) === 1;
    },
    async findByHash(hash) {
      const reply = await pairOf('lookup', findApiKeyScript, [hash]);
      const record = reply ? merge(reply[0], reply[1]) : undefined;
      return record?.hash === hash ? (record as ApiKeyRecord) : undefined;
    },
    async get(id) {
      const reply = await pairOf('get', getApiKeyScript, [id]);
      const record = reply ? merge(reply[0], reply[1]) : undefined;
      return record && keyInfo(record as ApiKeyRecord);
    },
    async list(filter = {}) {
      const [infos, revocations] = (await gate.run('api key list', (redis) => listApiKeysScript.run(redis, places))) as [string[], string[]];
      const revoked = new Map<string, string>();
      for (let i = 0; i < revocations.length; i += 2) revoked.set(revocations[i], revocations[i + 1]);
      const out: ApiKeyInfo[] = [];
      for (let i = 0; i < infos.length; i += 2) {
        const record = merge(infos[i + 1], revoked.get(infos[i]) ?? '');
        if (record && (filter.agent === undefined || record.agent === filter.agent)) out.push(keyInfo(record as ApiKeyRecord));
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },
    async revoke(id, at, by) {
      const reply = (await pairOf('revoke', revokeApiKeyScript, [id, JSON.stringify({ at, by })])) as [string, string, number] | null;
      const record = reply ? merge(reply[0], reply[1]) : undefined;
      return record && { key: keyInfo(record as ApiKeyRecord), changed: reply?.[2] === 1 };
    },
  };
}
