/**
 * Redis stopped under load: every call fails closed with 503 store.unavailable (none is let through
 * without its limits being checked), and when Redis is back the same gateway processes serve again,
 * without a restart. The test runs its own redis-server on a free port (the shared one on 6379 is
 * never touched). That server has no persistence, so the Redis that comes back is empty: the ledger
 * starts over, which is what this test expects (a production Redis would run with AOF).
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, RedisServer } from '../redis/helpers.ts';
import { ask, chat, countBy, replicaConfig, Replicas, type Reply } from './helpers.ts';

const WORKERS_PER_REPLICA = 4;
const OUTAGE_MS = 2500;
const RECOVERY_BOUND_MS = 10_000;

interface Sample extends Reply {
  replica: number;
  startedAt: number;
  endedAt: number;
}

describe('two gateway replicas on a Redis that stops and comes back', () => {
  const replicas = new Replicas();
  const pools: Pool[] = [];
  let redis: RedisServer;

  beforeAll(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    // A step limit on every run and a tenant budget, so "fails closed" is about limits that could otherwise
    // be passed. (A run of its own with no shared budget needs nothing from the store and is served.)
    const config = replicaConfig(
      { url: redis.url, prefix: 'fmguard-outage:' },
      { limits: { maxSteps: 3, maxIdenticalOutputs: 1_000_000 } },
      { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1000 }] } } },
    );
    const started = await replicas.startMany([
      ['gw-1', config],
      ['gw-2', config],
    ]);
    for (const r of started) pools.push(new Pool(r.url, { connections: WORKERS_PER_REPLICA }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.destroy()));
    await replicas.cleanup();
    // The private server and its data go with it (nothing was written to the shared Redis).
    await redis?.dispose();
  });

  it('fails closed with store.unavailable while Redis is down, and recovers without a restart', async () => {
    const samples: Sample[] = [];
    let running = true;
    let n = 0;
    const workers = pools.flatMap((pool, replica) =>
      Array.from({ length: WORKERS_PER_REPLICA }, async () => {
        while (running) {
          const i = n++;
          const startedAt = performance.now();
          // Runs of their own (no x-fmguard-run): each call is a fresh run, one step of its three.
          const reply = await chat(pool, ask(`load ${i}`, 'sim-free')).catch((error: Error) => ({
            status: 0,
            code: `client error: ${error.message}`,
            body: '',
          }));
          samples.push({ ...reply, replica, startedAt, endedAt: performance.now() });
        }
      }),
    );
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const since = (t: number) => samples.filter((s) => s.startedAt >= t);

    // Before: served, by both replicas (waited for, not slept: a cold replica's first calls can take
    // more than a second on a loaded machine).
    const served = (replica: number) => samples.some((s) => s.status === 200 && s.replica === replica);
    for (const waitStart = performance.now(); !(served(0) && served(1)) && performance.now() - waitStart < 30_000; ) await sleep(20);
    const before = samples.filter((s) => s.status === 200).length;

    // Redis dies (SIGKILL: no goodbye on the sockets).
    await redis.stop('SIGKILL');
    const stoppedAt = performance.now();
    await sleep(OUTAGE_MS);
    const outageEnd = performance.now();
    const during = since(stoppedAt).filter((s) => s.endedAt <= outageEnd);

    // Redis is back on the same port: the gateways reconnect on their own.
    await redis.start();
    const restartedAt = performance.now();
    let recoveredAt: number | undefined;
    while (performance.now() - restartedAt < RECOVERY_BOUND_MS) {
      const ok = since(restartedAt).find((s) => s.status === 200 && s.replica === 0);
      const ok2 = since(restartedAt).find((s) => s.status === 200 && s.replica === 1);
      if (ok && ok2) {
        recoveredAt = Math.max(ok.endedAt, ok2.endedAt);
        break;
      }
      await sleep(20);
    }
    await sleep(500);
    running = false;
    await Promise.all(workers);
    const after = since(recoveredAt ?? Infinity);

    const latencies = during.map((s) => s.endedAt - s.startedAt).sort((a, b) => a - b);
    console.log(
      `redis outage: before ${before} served; during ${OUTAGE_MS} ms down: ${during.length} calls -> ${JSON.stringify(countBy(during, (s) => `${s.status} ${s.code ?? ''}`))}, ` +
        `answered in median ${latencies[Math.floor(latencies.length / 2)]?.toFixed(0)} ms / max ${latencies.at(-1)?.toFixed(0)} ms; ` +
        `both replicas served again ${recoveredAt === undefined ? 'NEVER' : `${(recoveredAt - restartedAt).toFixed(0)} ms`} after Redis restarted; ` +
        `after: ${JSON.stringify(countBy(after, (s) => `${s.status} ${s.code ?? ''}`))}`,
    );

    expect(before).toBeGreaterThan(0);
    // Down: nothing served, every call refused with store.unavailable, in bounded time.
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((s) => s.status === 200)).toHaveLength(0);
    for (const s of during) {
      expect(s.status).toBe(503);
      expect(s.code).toBe('store.unavailable');
    }
    expect(latencies.at(-1)!).toBeLessThan(3000);
    // Back: both replicas serve again, the same processes (no restart).
    expect(recoveredAt).toBeDefined();
    expect(after.filter((s) => s.status === 200).length).toBeGreaterThan(0);
    expect(after.every((s) => s.status === 200)).toBe(true);
    for (const r of replicas.all) expect(r.child.exitCode).toBeNull();
  }, 120_000);
});
