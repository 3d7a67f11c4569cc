/**
 * The breaker and metric stores on Redis beyond the store contract (test/store/redis.test.ts runs
 * that): replicas hear breaker changes at once, the breaker service across replicas, and Redis
 * expiring metric series after their retention.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBreakers } from '../../src/breakers/service.ts';
import { initialBreakerState } from '../../src/breakers/state.ts';
import { createRedisBreakerStore } from '../../src/backends/redis/versioned.ts';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { createRedisMetricStore } from '../../src/backends/redis/metrics.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { countKeys, deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { row } from '../store/contract-metrics.ts';

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
  it('every replica hears a breaker change at once', async () => {
    const [ra, rb] = await pair();
    const a = createRedisBreakerStore(ra);
    const b = createRedisBreakerStore(rb);
    const heard: Array<[string, number | undefined]> = [];
    b.subscribe((scope, version) => heard.push([scope, version]));
    await vi.waitFor(() => expect(heard).toContainEqual(['*', undefined]), { timeout: 1000, interval: 5 });
    const started = performance.now();
    await a.compareAndSet('provider:sim', 0, initialBreakerState(0));
    // Pub/sub, not the 1 s cache: 750 ms still tells them apart on a loaded 2-core machine.
    await vi.waitFor(() => expect(heard).toContainEqual(['provider:sim', 1]), { timeout: 750, interval: 2 });
    expect(performance.now() - started).toBeLessThan(750);
    await a.delete('provider:sim');
    await vi.waitFor(() => expect(heard.at(-1)).toEqual(['provider:sim', undefined]), { timeout: 750, interval: 2 });
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
