/**
 * Reserved concurrency across replicas: two gateway servers (in-process replicas, each with its own
 * Redis connections) on one Redis, `maxConcurrentCalls: 2`,
 * an upstream that counts what is in flight at once. Ten parallel calls: never more than two reach
 * the upstream. A replica killed with calls in flight holds their slots until the lease (the
 * reservation TTL) runs out; then they come back.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { startCountingUpstream, type CountingUpstream } from './counting-upstream.ts';
import { ask, chat, countBy, replicaConfig, type Reply } from './helpers.ts';
import { startInProcessReplicas, type InProcessReplica } from './in-process.ts';

const LEASE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('maxConcurrentCalls: 2 across two gateway replicas on one Redis', () => {
  const prefix = uniquePrefix('replicas-slots');
  let replicas: InProcessReplica[] = [];
  const pools: Pool[] = [];
  let upstream: CountingUpstream;
  let store: RedisStore;

  beforeAll(async () => {
    upstream = await startCountingUpstream({ holdMs: 150 });
    const base = replicaConfig({ url: REDIS_URL, prefix }, { maxConcurrentCalls: 2, limits: { maxIdenticalOutputs: 1000, maxSteps: 1000 } });
    const config = {
      ...base,
      providers: { ...base.providers, up: { kind: 'openai' as const, baseUrl: upstream.baseUrl, apiKey: 'k' } },
      models: { ...base.models, up: { provider: 'up', inputPerMTok: 0, outputPerMTok: 0 } },
      defaults: { retry: [], reservationTtlMs: LEASE_MS },
    };
    replicas = await startInProcessReplicas(2, config as never, prefix);
    for (const r of replicas) pools.push(new Pool(r.url, { connections: 10, pipelining: 1 }));
    store = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
    await store.ready();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await Promise.all(replicas.map((r) => r.close()));
    await upstream?.close();
    await store?.close();
    await deleteKeys(prefix);
  });

  const slots = async () => (await store.ledger.balances([{ key: 'concurrency:agent:bot', dim: 'in_flight' }], Date.now()))[0]!;

  it('10 parallel calls on 2 replicas: never more than 2 in flight at the upstream; the rest 429 limit.concurrency', async () => {
    const replies: Reply[] = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(pools[i % 2]!, ask(`q${i}`, 'up'))));
    const codes = countBy(replies, (r) => `${r.status} ${r.code ?? ''}`.trim());
    console.log(`reserved concurrency 2, 10 parallel calls on 2 replicas: ${JSON.stringify(codes)}; max in flight at the upstream ${upstream.maxInFlight()}`);
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(2);
    expect(replies.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    for (const r of replies.filter((x) => x.status !== 200)) expect([r.status, r.code]).toEqual([429, 'limit.concurrency']);
    expect(await slots()).toEqual({ used: 0, reserved: 0 });
  });

  it('callers that retry on 429 all get served, still never more than 2 at once', async () => {
    const call = async (i: number): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        const r = await chat(pools[i % 2]!, ask(`retry ${i}`, 'up'));
        if (r.status === 200) return attempt;
        expect(r.code).toBe('limit.concurrency');
        await sleep(20 + Math.random() * 40);
      }
    };
    const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i)));
    expect(attempts.length).toBe(10);
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(2);
    expect(await slots()).toEqual({ used: 0, reserved: 0 });
  }, 60_000);

  it('a replica killed with calls in flight: its slots come back when the lease expires', async () => {
    upstream.hold(Number.POSITIVE_INFINITY);
    const victim = replicas[1]!;
    const doomed = [chat(pools[1]!, ask('doomed 1', 'up')).catch(() => undefined), chat(pools[1]!, ask('doomed 2', 'up')).catch(() => undefined)];
    const until = Date.now() + 10_000;
    while (upstream.inFlight() < 2 && Date.now() < until) await sleep(10);
    expect(upstream.inFlight()).toBe(2);
    await victim.crash();
    await Promise.all(doomed);
    upstream.release();
    upstream.hold(50);
    const killedAt = Date.now();
    // Held by the dead replica's reservations: refused.
    const refused = await chat(pools[0]!, ask('while held', 'up'));
    expect([refused.status, refused.code]).toEqual([429, 'limit.concurrency']);
    // After the lease, served.
    let served: Reply | undefined;
    while (Date.now() - killedAt < LEASE_MS + 10_000) {
      served = await chat(pools[0]!, ask('after lease', 'up'));
      if (served.status === 200) break;
      await sleep(200);
    }
    expect(served?.status).toBe(200);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE_MS - 1000);
    upstream.release();
  }, 60_000);
});
