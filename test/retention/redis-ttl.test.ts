/**
 * Redis keys for runs and reservations expire (real Redis): an ended run's record and ledger account
 * get the run TTL; a reservation key lives its timeout plus the late-settle retention and a grace.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RESERVATION_GRACE_MS } from '../../src/backends/redis/ledger.ts';
import { makeTestStore, REDIS_URL } from '../redis/helpers.ts';

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

describe('Redis run and reservation keys expire', () => {
  it('an ended run and its ledger account get the run TTL; a running one has none', async () => {
    const store = await makeTestStore({ runTtlMs: 600_000 });
    try {
      const p = store.keys.prefix;
      const now = Date.now();
      await store.runs.create({ id: 'r1', agent: 'a', tenant: 't', ancestors: [], depth: 0, startedAt: now, deadline: now + 60_000, status: 'running' });
      await store.ledger.reserve({ id: 'res-1', charges: [{ key: 'run:r1', dim: 'cost', amount: 5, code: 'limit.cost' }], expiresAt: now + 30_000, now });
      const resTtl = await redis.pttl(`${p}res:res-1`);
      expect(resTtl).toBeGreaterThan(30_000 + RESERVATION_GRACE_MS);
      expect(resTtl).toBeLessThanOrEqual(30_000 + 3_600_000 + RESERVATION_GRACE_MS);
      await store.ledger.settle({ id: 'res-1', actual: [4], now });
      expect(await redis.pttl(`${p}run:r1`)).toBe(-1);
      await store.runs.end('r1', 'completed', now + 1000);
      const runTtl = await redis.pttl(`${p}run:r1`);
      expect(runTtl).toBeGreaterThan(500_000);
      expect(runTtl).toBeLessThanOrEqual(600_000);
      expect(await redis.pttl(`${p}l:run:r1`)).toBeGreaterThan(500_000);
      // A second end changes nothing (the first stop wins), the TTL included.
      expect((await store.runs.end('r1', 'stopped', now + 2000))?.status).toBe('completed');
    } finally {
      await store.close();
    }
  });

  it('without a run TTL an ended run is kept until pruned', async () => {
    const store = await makeTestStore();
    try {
      const now = Date.now();
      await store.runs.create({ id: 'r2', agent: 'a', tenant: 't', ancestors: [], depth: 0, startedAt: now, deadline: now + 60_000, status: 'running' });
      await store.runs.end('r2', 'completed', now);
      expect(await redis.pttl(`${store.keys.prefix}run:r2`)).toBe(-1);
    } finally {
      await store.close();
    }
  });
});
