/**
 * Four gateway processes on four ports share one Redis. 2,000 concurrent requests spread across them
 * against one tenant day budget and one run's step limit: what the ledger in Redis says afterwards.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/core/money.ts';
import { windowId } from '../../src/core/periods.ts';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { ask, chat, countBy, replicaConfig, Replicas, TENANT, type Reply } from './helpers.ts';

const BUDGET_USD = 2;
const MAX_STEPS = 800;
const REQUESTS = 2000;
const CONNECTIONS_PER_REPLICA = 12;

describe('four gateway replicas, one Redis: one budget and one run limit hold exactly', () => {
  const prefix = uniquePrefix('replicas-limits');
  const replicas = new Replicas();
  const pools: Pool[] = [];
  let store: RedisStore;

  beforeAll(async () => {
    const config = replicaConfig(
      { url: REDIS_URL, prefix },
      // The run's own cost cap is out of the way: the tenant budget and the step limit are what bind.
      { limits: { maxSteps: MAX_STEPS, maxCostUsd: 1000, maxIdenticalOutputs: 1_000_000 } },
      { tenants: { [TENANT]: { budgets: [{ period: 'day', maxCostUsd: BUDGET_USD }] } } },
    );
    const started = await replicas.startMany([1, 2, 3, 4].map((i) => [`gw-${i}`, config] as [string, typeof config]));
    for (const r of started) pools.push(new Pool(r.url, { connections: CONNECTIONS_PER_REPLICA, pipelining: 1 }));
    store = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
    await store.ready();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await replicas.cleanup();
    await store?.close();
    await deleteKeys(prefix);
  });

  it('2,000 concurrent requests: spend <= budget, steps <= limit, nothing left reserved, every refusal coded', async () => {
    const runId = `shared-run-${Date.now()}`;
    const dayWindow = windowId('day', Date.now());
    // Every other request is to the pricey model (it exhausts the budget); the free one keeps taking
    // steps after that, until the step limit.
    const replies: Reply[] = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        chat(pools[i % pools.length]!, ask(`question number ${i}`, i % 2 === 0 ? 'sim-pricey' : 'sim-free', { max_tokens: 50 }), { 'x-fmguard-run': runId }),
      ),
    );

    const now = Date.now();
    const [budget] = await store.ledger.balances([{ key: `budget:tenant:${TENANT}:day:${dayWindow}`, dim: 'cost' }], now);
    const [steps, runCost] = await store.ledger.balances(
      [
        { key: `run:${runId}@bot`, dim: 'steps' },
        { key: `run:${runId}@bot`, dim: 'cost' },
      ],
      now,
    );
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status !== 200);
    const codes = countBy(refused, (r) => `${r.status} ${r.code ?? 'NO CODE'}`);
    console.log(
      `replicas: ${REQUESTS} requests -> ${ok.length} ok; refusals ${JSON.stringify(codes)}; ` +
        `budget used ${budget!.used / 1e9} USD of ${BUDGET_USD} (reserved ${budget!.reserved}); steps ${steps!.used}/${MAX_STEPS} (reserved ${steps!.reserved})`,
    );

    // The limits held across the four processes, and nothing is left held.
    expect(budget!.used).toBeLessThanOrEqual(usdToNano(BUDGET_USD));
    expect(budget!.reserved).toBe(0);
    expect(steps!.used).toBeLessThanOrEqual(MAX_STEPS);
    expect(steps!.reserved).toBe(0);
    expect(runCost!.reserved).toBe(0);
    // The run's spend is the tenant's (one run, one tenant), and each answered call took one step.
    expect(runCost!.used).toBe(budget!.used);
    expect(steps!.used).toBe(ok.length);

    // Both limits were reached, not merely approached.
    expect(Object.keys(codes).some((c) => c.endsWith(' budget.exhausted'))).toBe(true);
    expect(Object.keys(codes).some((c) => c.endsWith(' limit.steps'))).toBe(true);
    expect(steps!.used).toBe(MAX_STEPS);
    // Every refusal says why, with one of the limit codes.
    // (limit.contended: refused while other calls in flight held the rest, settled spend leaving room.)
    for (const r of refused) expect(['budget.exhausted', 'limit.steps', 'limit.cost', 'limit.contended']).toContain(r.code);
  }, 90_000);
});
