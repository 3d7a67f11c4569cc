/**
 * The Redis store on a Redis Cluster: a private 3-master cluster started on free loopback ports,
 * the state contract (ledger, compound, rates, kills, runs) against it, and four store instances
 * ("replicas") racing for one tenant budget. Every key of a store carries the prefix's hash tag, so
 * each script's keys are in one slot; two deployments (prefixes) land on whichever masters own
 * their tags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { LocalCluster } from '../redis/cluster.ts';
import { stateSections } from '../store/contract-state.ts';
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/config/load.ts';
import { describeConfig } from '../../src/config/mask.ts';
import { ConfigError } from '../../src/config/problems.ts';
import { openStore } from '../../src/wiring/store.ts';

const cluster = new LocalCluster();

beforeAll(async () => {
  await cluster.start(3);
}, 120_000);

afterAll(async () => {
  await cluster.dispose();
});

function open(prefix = `{fmguard-c-${randomUUID().slice(0, 8)}}:`): RedisStore {
  const [first, ...rest] = cluster.urls;
  return createRedisStore({ url: first, cluster: rest, prefix, commandTimeoutMs: 5000 });
}

stateSections('redis cluster', async () => {
  const store = open();
  await store.ready();
  return store;
});

describe('redis store on a 3-master cluster', () => {
  it('four replicas, 800 concurrent take+reserve calls on one tenant budget: exactly the limit is granted', async () => {
    const prefix = `{fmguard-race-${randomUUID().slice(0, 8)}}:`;
    const four = Array.from({ length: 4 }, () => open(prefix));
    try {
      await Promise.all(four.map((s) => s.ready()));
      const limit = 300;
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 800 }, async (_, i) => {
          const store = four[i % 4];
          const req = {
            id: `r${i}`,
            charges: [
              { key: `run:r${i}`, dim: 'steps', amount: 1, limit: 10, code: 'limit.steps' as const },
              { key: 'agent:bot', dim: 'cost', amount: 1000, code: 'budget.exhausted' as const },
              { key: 'tenant:acme', dim: 'cost', amount: 1000, limit: limit * 1000, code: 'budget.exhausted' as const },
            ],
            expiresAt: now + 60_000,
            now,
          };
          // Half through the compound script (one round trip), half through ledger.reserve.
          const r = i % 2 === 0 && store.compound ? (await store.compound.takeAndReserve([], req)).reserve : await store.ledger.reserve(req);
          if (r?.ok) await store.ledger.settle({ id: req.id, actual: [1, 1000, 1000], now });
          return r;
        }),
      );
      const granted = results.filter((r) => r?.ok).length;
      expect(granted).toBe(limit);
      for (const r of results) if (r && !r.ok) expect(r.refusal.code).toBe('budget.exhausted');
      const [tenant, agent] = await four[3].ledger.balances(
        [
          { key: 'tenant:acme', dim: 'cost' },
          { key: 'agent:bot', dim: 'cost' },
        ],
        now,
      );
      expect(tenant).toEqual({ used: limit * 1000, reserved: 0 });
      expect(agent).toEqual({ used: limit * 1000, reserved: 0 });
    } finally {
      await Promise.all(four.map((s) => s.close()));
    }
  }, 30_000);

  it('stores with different hash tags spread over the masters; each store keeps to its own slot', async () => {
    const owners = new Set<number>();
    const stores: RedisStore[] = [];
    try {
      for (let i = 0; i < 12 && owners.size < 3; i++) {
        const tag = `dep${i}`;
        const store = open(`{${tag}}:`);
        stores.push(store);
        await store.ready();
        await store.ledger.adjust('tenant:t', 'cost', 5);
        await store.rates.take([{ scope: 'tenant', key: 'tenant:t', capacity: 10, windowMs: 60_000, amount: 1 }], Date.now());
        await store.runs.create({ id: 'run1', agent: 'a', tenant: 't', ancestors: [], depth: 0, startedAt: 1, deadline: 2, status: 'running' });
        owners.add(await cluster.ownerOf(`{${tag}}:x`));
      }
      expect(owners.size).toBe(3);
      const counts = await cluster.keyCounts();
      expect(Object.values(counts).every((n) => n > 0)).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses a prefix without a hash tag in cluster mode', () => {
    const [first, ...rest] = cluster.urls;
    expect(() => createRedisStore({ url: first, cluster: rest, prefix: 'fmguard:' })).toThrow(/hash tag/);
  });

  it('a config with store.cluster opens a cluster store: a budget decided through it, seed URLs masked', async () => {
    const [first, ...rest] = cluster.urls;
    const prefix = `{cfg-${randomUUID().slice(0, 8)}}:`;
    const base = { providers: { sim: { kind: 'simulated' } }, tenants: { acme: {} }, audit: { sink: 'none' } };
    const config = parseConfig({ ...base, store: { kind: 'redis', url: first, cluster: rest.map((u) => u.replace('//', '//u:secret@')), prefix } });
    expect(JSON.stringify(describeConfig(config))).not.toContain('secret');
    // The seeds above carry a password the nodes do not ask for; the store itself gets clean URLs.
    const store = openStore({ ...config, store: { kind: 'redis', url: first, cluster: rest, prefix } });
    try {
      const now = Date.now();
      const charge = (id: string) => ({
        id,
        charges: [{ key: 'tenant:acme', dim: 'cost', amount: 1, limit: 1, code: 'budget.exhausted' as const }],
        expiresAt: now + 60_000,
        now,
      });
      expect((await store.ledger.reserve(charge('a'))).ok).toBe(true);
      expect((await store.ledger.reserve(charge('b'))).ok).toBe(false);
      expect((store as RedisStore).keys.prefix).toBe(prefix);
    } finally {
      await store.close();
    }
    let problems: string[] = [];
    try {
      parseConfig({ ...base, store: { kind: 'redis', url: first, cluster: [], prefix: 'plain:' } });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual([expect.stringMatching(/^store.prefix: in a Redis Cluster the prefix must contain a hash tag/)]);
  });
});
