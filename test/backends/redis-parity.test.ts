/**
 * The Redis scripts must decide exactly as the shared rules (src/backends/rules.ts) do: the
 * same random sequence of operations on the memory store and on Redis gives identical answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import type { RedisStore } from '../../src/backends/redis/index.ts';
import type { BucketSpec, Charge, Store } from '../../src/store/store.ts';
import { makeTestStore } from '../redis/helpers.ts';
import { mulberry32 as rng } from '../../src/providers/simulated/random.ts';

const T0 = Date.UTC(2026, 0, 1);

/** Run the same answers-producing call on both stores; errors count as answers (by class and message). */
async function both<T>(stores: Store[], call: (s: Store) => Promise<T>): Promise<unknown[]> {
  return Promise.all(
    stores.map((s) =>
      call(s).then(
        (v) => v,
        (e: unknown) => ({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
      ),
    ),
  );
}

describe('redis store decides as the memory store does', () => {
  let redis: RedisStore;
  afterEach(async () => {
    await redis.close();
  });

  it('token buckets: same grants, same refusals, same exact waits', async () => {
    redis = await makeTestStore();
    const stores: Store[] = [createMemoryStore(), redis];
    const rand = rng(2026);
    const keys = ['a', 'b', 'c'];
    const shapes = new Map(
      keys.map((k) => [k, { capacity: 1 + Math.floor(rand() * 50) + (rand() < 0.3 ? rand() : 0), windowMs: 500 + Math.floor(rand() * 90_000) }]),
    );
    let now = T0;
    for (let step = 0; step < 600; step++) {
      now += Math.floor(rand() * 3000);
      const n = 1 + Math.floor(rand() * 3);
      const buckets: BucketSpec[] = Array.from({ length: n }, () => {
        const key = keys[Math.floor(rand() * keys.length)];
        const shape = shapes.get(key)!;
        const amount = rand() < 0.2 ? rand() * 3 : Math.floor(rand() * shape.capacity * 0.6);
        return { key, ...shape, amount, scope: `scope:${key}` };
      });
      const credit = rand() < 0.15;
      const answers = await both<unknown>(stores, (s) => (credit ? s.rates.credit(buckets, now) : s.rates.take(buckets, now)));
      expect(answers[1], `step ${step}`).toEqual(answers[0]);
    }
  });

  it('ledger: same reservations, refusals, settlements and balances', async () => {
    redis = await makeTestStore();
    const stores: Store[] = [createMemoryStore(), redis];
    const rand = rng(7);
    const accounts = ['run:a', 'run:b', 'budget:t'];
    const live: string[] = [];
    let now = T0;
    let seq = 0;
    for (let step = 0; step < 500; step++) {
      now += Math.floor(rand() * 400);
      const roll = rand();
      if (roll < 0.5 || live.length === 0) {
        const charges: Charge[] = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => {
          const key = accounts[Math.floor(rand() * accounts.length)];
          const c: Charge = { key, dim: rand() < 0.8 ? 'cost' : 'steps', amount: Math.floor(rand() * 300), code: 'limit.cost' };
          if (rand() < 0.8) c.limit = 2000 + Math.floor(rand() * 2000);
          return c;
        });
        const id = rand() < 0.05 && live.length > 0 ? live[0] : `r${seq++}`;
        const expiresAt = now + Math.floor(rand() * 3000);
        const answers = await both(stores, (s) => s.ledger.reserve({ id, charges, expiresAt, now }));
        expect(answers[1], `reserve at step ${step}`).toEqual(answers[0]);
        if ((answers[0] as { ok?: boolean }).ok) live.push(id);
      } else if (roll < 0.8) {
        const id = live.splice(Math.floor(rand() * live.length), 1)[0];
        // Settle does not sweep; sweep both first so a due reservation is in the same state in each.
        if (rand() < 0.5) await both(stores, (s) => s.ledger.balances([], now));
        const count = 1 + Math.floor(rand() * 3);
        const actual = Array.from({ length: count }, () => Math.floor(rand() * 400));
        const answers = await both(stores, (s) => s.ledger.settle({ id, actual, now }));
        expect(answers[1], `settle at step ${step}`).toEqual(answers[0]);
        if ((answers[0] as { error?: string }).error) live.push(id);
      } else if (roll < 0.9) {
        const id = live.splice(Math.floor(rand() * live.length), 1)[0];
        await both(stores, (s) => s.ledger.release(id));
      } else {
        const lines = accounts.flatMap((key) => [
          { key, dim: 'cost' },
          { key, dim: 'steps' },
        ]);
        const answers = await both(stores, (s) => s.ledger.balances(lines, now));
        expect(answers[1], `balances at step ${step}`).toEqual(answers[0]);
      }
    }
  });
});
