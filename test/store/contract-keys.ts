import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../src/store/api-keys.ts';
import type { Store } from '../../src/store/store.ts';

const T0 = 1_800_000_000_000;
const sha = (secret: string) => createHash('sha256').update(secret).digest('hex');

function record(id: string, agent: string, createdAt: number, extra: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    hash: sha(`secret-${id}`),
    hint: `fmg_${id.slice(-4)}`,
    agent,
    createdAt,
    createdBy: 'ops',
    budgets: [{ period: 'day', maxCostUsd: 0.123456789, alertAt: [0.5] }],
    rateLimits: { requestsPerMinute: 7 },
    ...extra,
  };
}

/** Minted API keys (`store.apiKeys`): hashes only, found by hash, revoked once, seen through every handle. */
export function apiKeySections(name: string, makeStore: () => Promise<{ a: Store; b: Store; close: () => Promise<void> }>): void {
  describe(`store contract: ${name}: apiKeys`, () => {
    let s: { a: Store; b: Store; close: () => Promise<void> };
    beforeEach(async () => {
      s = await makeStore();
    });
    afterEach(async () => {
      await s.close();
    });

    it('stores a key and finds it by hash through every handle, exactly as written', async () => {
      const r = record('mk_1', 'bot', T0, { name: 'ci', expiresAt: T0 + 86_400_000 });
      expect(await s.a.apiKeys.create(r)).toBe(true);
      expect(await s.b.apiKeys.findByHash(r.hash)).toEqual(r);
      expect(await s.b.apiKeys.findByHash(sha('another secret'))).toBeUndefined();
      const { hash: _h, ...info } = r;
      expect(await s.b.apiKeys.get('mk_1')).toEqual(info);
      expect(await s.a.apiKeys.get('mk_nope')).toBeUndefined();
    });

    it('refuses a second key with the same id or the same hash and keeps the first', async () => {
      const r = record('mk_1', 'bot', T0);
      expect(await s.a.apiKeys.create(r)).toBe(true);
      expect(await s.b.apiKeys.create({ ...r, agent: 'other' })).toBe(false);
      expect(await s.b.apiKeys.create({ ...record('mk_2', 'other', T0), hash: r.hash })).toBe(false);
      expect((await s.a.apiKeys.findByHash(r.hash))?.agent).toBe('bot');
      expect(await s.a.apiKeys.get('mk_2')).toBeUndefined();
    });

    it('lists keys oldest first, by agent, never with a hash', async () => {
      await s.a.apiKeys.create(record('mk_c', 'bot', T0 + 2));
      await s.a.apiKeys.create(record('mk_a', 'other', T0 + 1));
      await s.b.apiKeys.create(record('mk_b', 'bot', T0 + 1));
      const all = await s.b.apiKeys.list();
      expect(all.map((k) => k.id)).toEqual(['mk_a', 'mk_b', 'mk_c']);
      for (const k of all) expect(k).not.toHaveProperty('hash');
      expect(JSON.stringify(all)).not.toContain(sha('secret-mk_a'));
      expect((await s.a.apiKeys.list({ agent: 'bot' })).map((k) => k.id)).toEqual(['mk_b', 'mk_c']);
      expect(await s.a.apiKeys.list({ agent: 'nobody' })).toEqual([]);
    });

    it('revokes once: the first revocation stays, every handle sees it, unknown ids are undefined', async () => {
      const r = record('mk_1', 'bot', T0);
      await s.a.apiKeys.create(r);
      const revoked = await s.b.apiKeys.revoke('mk_1', T0 + 5, 'alice');
      expect(revoked).toMatchObject({ key: { id: 'mk_1', revokedAt: T0 + 5, revokedBy: 'alice' }, changed: true });
      expect(revoked?.key).not.toHaveProperty('hash');
      expect(await s.a.apiKeys.revoke('mk_1', T0 + 9, 'bob')).toMatchObject({ key: { revokedAt: T0 + 5, revokedBy: 'alice' }, changed: false });
      // The same operator again in the same millisecond (a doubled request) is not a second revocation.
      expect(await s.a.apiKeys.revoke('mk_1', T0 + 5, 'alice')).toMatchObject({ key: { revokedAt: T0 + 5, revokedBy: 'alice' }, changed: false });
      expect(await s.a.apiKeys.findByHash(r.hash)).toMatchObject({ revokedAt: T0 + 5, revokedBy: 'alice', hash: r.hash });
      expect((await s.a.apiKeys.list())[0]).toMatchObject({ revokedAt: T0 + 5 });
      expect(await s.a.apiKeys.revoke('mk_nope', T0, 'alice')).toBeUndefined();
      expect(await s.a.apiKeys.list()).toHaveLength(1);
    });

    it('of concurrent revocations through two handles exactly one changed the key', async () => {
      await s.a.apiKeys.create(record('mk_2', 'bot', T0));
      const results = await Promise.all([s.a.apiKeys.revoke('mk_2', T0 + 1, 'alice'), s.b.apiKeys.revoke('mk_2', T0 + 1, 'alice')]);
      expect(results.map((r) => r?.changed).sort()).toEqual([false, true]);
      expect(results[0]?.key).toEqual(results[1]?.key);
    });
  });
}
