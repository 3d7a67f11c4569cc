/**
 * The breaker and metric stores on Redis: the same behaviour as test/breakers/store-contract.test.ts
 * and test/metrics/store-contract.test.ts (repeated here, since those files list their stores
 * themselves), plus what only a shared store shows: replicas hear breaker changes at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBreakers } from '../../src/breakers/service.ts';
import { initialBreakerState, type BreakerState } from '../../src/breakers/state.ts';
import type { MetricRow } from '../../src/store/metrics.ts';
import { createRedisBreakerStore } from '../../src/backends/redis/versioned.ts';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { createRedisMetricStore } from '../../src/backends/redis/metrics.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';

const closed = (failures: number): BreakerState => ({ kind: 'closed', epoch: 0, since: 0, failures });
const row = (over: Partial<MetricRow>): MetricRow => ({
  scope: 'provider:sim',
  metric: 'calls',
  start: 0,
  source: 'r1',
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
  ...over,
});

const stores: RedisStore[] = [];
const prefixes: string[] = [];

async function pair(): Promise<[RedisStore, RedisStore]> {
  const prefix = uniquePrefix('brk');
  prefixes.push(prefix);
  const a = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
  const b = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
  stores.push(a, b);
  await Promise.all([a.ready(), b.ready()]);
  return [a, b];
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const p of prefixes.splice(0)) await deleteKeys(p);
});

describe('BreakerStore on redis', () => {
  it('creates with version 0 → 1, then compare-and-sets on the version', async () => {
    const [ra, rb] = await pair();
    const a = createRedisBreakerStore(ra);
    const b = createRedisBreakerStore(rb);
    expect(await a.get('provider:sim')).toBeUndefined();
    const state = initialBreakerState(1);
    expect(await a.compareAndSet('provider:sim', 0, state)).toEqual({ ok: true, record: { scope: 'provider:sim', state, version: 1 } });
    expect(await b.compareAndSet('provider:sim', 0, closed(3))).toEqual({ ok: false, current: { scope: 'provider:sim', state, version: 1 } });
    const second = await b.compareAndSet('provider:sim', 1, closed(3));
    expect(second.ok && second.record.version).toBe(2);
    expect((await a.get('provider:sim'))?.state).toMatchObject({ failures: 3 });
    expect(await a.compareAndSet('nothing:here', 4, closed(1))).toEqual({ ok: false, current: undefined });
  });

  it('lists by scope, deletes, and returns copies', async () => {
    const [ra, rb] = await pair();
    const a = createRedisBreakerStore(ra);
    const b = createRedisBreakerStore(rb);
    for (const scope of ['tool:demo.search', 'model:x', 'provider:sim']) await a.compareAndSet(scope, 0, initialBreakerState(0));
    expect((await b.list()).map((r) => r.scope)).toEqual(['model:x', 'provider:sim', 'tool:demo.search']);
    await b.delete('model:x');
    expect((await a.list()).map((r) => r.scope)).toEqual(['provider:sim', 'tool:demo.search']);
    expect(await a.compareAndSet('model:x', 0, initialBreakerState(0))).toMatchObject({ ok: true });
    const got = await a.get('provider:sim');
    (got!.state as { failures: number }).failures = 99;
    expect((await a.get('provider:sim'))!.state).toMatchObject({ failures: 0 });
  });

  it('exactly one of many concurrent compare-and-sets on the same version wins, across replicas', async () => {
    const [ra, rb] = await pair();
    const a = createRedisBreakerStore(ra);
    const b = createRedisBreakerStore(rb);
    await a.compareAndSet('provider:sim', 0, initialBreakerState(0));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).compareAndSet('provider:sim', 1, closed(i))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('every replica hears a breaker change at once', async () => {
    const [ra, rb] = await pair();
    const a = createRedisBreakerStore(ra);
    const b = createRedisBreakerStore(rb);
    const heard: Array<[string, number | undefined]> = [];
    b.subscribe((scope, version) => heard.push([scope, version]));
    await vi.waitFor(() => expect(heard).toContainEqual(['*', undefined]), { timeout: 1000, interval: 5 });
    const started = performance.now();
    await a.compareAndSet('provider:sim', 0, initialBreakerState(0));
    await vi.waitFor(() => expect(heard).toContainEqual(['provider:sim', 1]), { timeout: 200, interval: 2 });
    expect(performance.now() - started).toBeLessThan(200);
    await a.delete('provider:sim');
    await vi.waitFor(() => expect(heard.at(-1)).toEqual(['provider:sim', undefined]), { timeout: 200, interval: 2 });
  });

  it('drives the breaker service: a breaker opened on one replica refuses calls on the other', async () => {
    const [ra, rb] = await pair();
    const clock = new FakeClock();
    const one = createBreakers({ store: createRedisBreakerStore(ra), clock, cacheMs: 0 });
    const two = createBreakers({ store: createRedisBreakerStore(rb), clock, cacheMs: 0 });
    await one.open('provider:sim', { by: 'operator:ops', reason: 'incident', cooldownMs: null });
    expect(await two.admit('provider:sim')).toMatchObject({ ok: false, retryAfterMs: null });
    await two.close('provider:sim', { by: 'operator:ops', reason: 'fixed' });
    expect(await one.admit('provider:sim')).toMatchObject({ ok: true });
  });
});

describe('MetricStore on redis', () => {
  it('replaces rows by (scope, metric, start, source) and reads a time range of one scope', async () => {
    const [r] = await pair();
    const s = createRedisMetricStore(r);
    await s.write([row({ start: 0 }), row({ start: 10_000 }), row({ start: 20_000 }), row({ scope: 'global' }), row({ metric: 'errors' })]);
    await s.write([row({ start: 10_000, count: 5, sum: 5 }), row({ start: 10_000, source: 'r2', count: 2, sum: 2 })]);
    const rows = await s.read({ scope: 'provider:sim', metrics: ['calls'], from: 10_000, to: 30_000 });
    expect(rows.map((x) => [x.start, x.source, x.count])).toEqual(
      expect.arrayContaining([
        [10_000, 'r1', 5],
        [10_000, 'r2', 2],
        [20_000, 'r1', 1],
      ]),
    );
    expect(rows).toHaveLength(3);
    expect(await s.read({ scope: 'provider:sim', metrics: ['calls', 'errors'], from: 0, to: 10_000 })).toHaveLength(2);
    expect(await s.read({ scope: 'nobody', metrics: ['calls'], from: 0, to: 1e15 })).toEqual([]);
    expect(await s.read({ scope: 'provider:sim', metrics: [], from: 0, to: 1e15 })).toEqual([]);
  });

  it('keeps sketches and prunes old rows', async () => {
    const [r] = await pair();
    const s = createRedisMetricStore(r);
    await s.write([row({ metric: 'latency_ms', sketch: { zero: 1, bins: { '230': 2, '-3': 1 } } }), row({ start: 60_000 })]);
    const [got] = await s.read({ scope: 'provider:sim', metrics: ['latency_ms'], from: 0, to: 1 });
    expect(got.sketch).toEqual({ zero: 1, bins: { '230': 2, '-3': 1 } });
    expect(await s.prune(60_000)).toBe(1);
    expect(await s.read({ scope: 'provider:sim', metrics: ['latency_ms', 'calls'], from: 0, to: 1e15 })).toHaveLength(1);
  });

  it('two replicas write their own rows; reads see both; series expire after the retention period', async () => {
    const [ra, rb] = await pair();
    const a = createRedisMetricStore(ra, { retentionMs: 300 });
    const b = createRedisMetricStore(rb, { retentionMs: 300 });
    await a.write([row({ source: 'a', count: 3 })]);
    await b.write([row({ source: 'b', count: 4 })]);
    const rows = await a.read({ scope: 'provider:sim', metrics: ['calls'], from: 0, to: 1 });
    expect(rows.map((x) => x.count).sort()).toEqual([3, 4]);
    await new Promise((res) => setTimeout(res, 400));
    expect(await b.read({ scope: 'provider:sim', metrics: ['calls'], from: 0, to: 1 })).toEqual([]);
    expect(await a.prune(1e15)).toBe(0); // and prune forgets the vanished series
    expect(await countKeys(`${ra.keys.prefix}m`)).toBe(0);
  });
});
