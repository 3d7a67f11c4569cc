import { afterEach, describe, expect, it } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import { breakerOpenError, createBreakers, type BreakerChange } from '../../src/breakers/service.ts';
import type { Admission, BreakerToken } from '../../src/breakers/state.ts';
import type { BreakerStore } from '../../src/store/breakers.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { STORE_KINDS } from './stores.ts';
import { createMemoryBreakerStore } from '../../src/backends/memory/versioned.ts';

const token = (a: Admission): BreakerToken => {
  if (!a.ok) throw new Error(`refused: ${JSON.stringify(a)}`);
  return a.token;
};

/** Counts reads, to show the closed fast path does not touch the store. */
function counting(store: BreakerStore) {
  const counts = { get: 0, cas: 0 };
  const wrapped: BreakerStore = {
    kind: store.kind,
    get: (scope) => (counts.get++, store.get(scope)),
    compareAndSet: (scope, v, s) => (counts.cas++, store.compareAndSet(scope, v, s)),
    delete: (scope) => store.delete(scope),
    list: () => store.list(),
  };
  return { store: wrapped, counts };
}

describe.each(STORE_KINDS)('Breakers service over $name', ({ make }) => {
  let close = () => {};
  afterEach(() => close());

  function setup(options: Partial<Parameters<typeof createBreakers>[0]> = {}) {
    const s = make();
    close = s.close;
    const clock = new FakeClock();
    const changes: BreakerChange[] = [];
    const { store, counts } = counting(s.a);
    const breakers = createBreakers({ store, clock, onChange: (c) => changes.push(c), ...options });
    return { breakers, clock, changes, counts, other: s.b };
  }

  it('goes closed → open → half-open → closed over a fake clock, reporting each change', async () => {
    const { breakers, clock, changes } = setup();
    const scope = 'provider:sim';
    for (let i = 0; i < 5; i++) await breakers.record(scope, token(await breakers.admit(scope)), false);
    expect(await breakers.admit(scope)).toEqual({ ok: false, retryAfterMs: 30_000 });
    await clock.advance(10_000);
    const refused = await breakers.admit(scope);
    expect(refused).toEqual({ ok: false, retryAfterMs: 20_000 });
    const error = breakerOpenError(scope, refused as Extract<Admission, { ok: false }>);
    expect(error).toBeInstanceOf(GuardError);
    expect([error.code, error.status, error.details.retryAfterMs]).toEqual(['breaker.open', 503, 20_000]);

    await clock.advance(20_000);
    const probes = [await breakers.admit(scope), await breakers.admit(scope), await breakers.admit(scope)];
    expect(probes.map((p) => p.ok && p.probe)).toEqual([true, true, true]);
    expect((await breakers.admit(scope)).ok).toBe(false);
    for (const p of probes) await breakers.record(scope, token(p), true);
    expect((await breakers.get(scope)).kind).toBe('closed');

    expect(changes.map((c) => `${c.from}→${c.to} by ${c.by}: ${c.reason}`)).toEqual([
      'closed→open by auto: 5 consecutive failures',
      'open→halfOpen by auto: cooldown over',
      'halfOpen→closed by auto: probes succeeded',
    ]);
  });

  it('reopens on a failed probe with a longer cooldown, up to the cap', async () => {
    const { breakers, clock } = setup({ defaults: { maxCooldownMs: 100_000 } });
    const scope = 'tool:demo.search';
    for (let i = 0; i < 5; i++) await breakers.record(scope, token(await breakers.admit(scope)), false);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const view = await breakers.get(scope);
      await clock.advance(view.retryAfterMs!);
      const probe = await breakers.admit(scope);
      expect(probe).toMatchObject({ ok: true, probe: true });
      await breakers.record(scope, token(probe), false);
      seen.push(((await breakers.admit(scope)) as { retryAfterMs: number }).retryAfterMs);
    }
    expect(seen).toEqual([60_000, 100_000, 100_000, 100_000]);
  });

  it('a breaker opened or closed through another replica is honoured at once, not after the cache period (store subscription)', async () => {
    const s = make();
    close = s.close;
    const clock = new FakeClock(); // never advanced: the 60 s cache cannot expire, only an announcement drops it
    const here = createBreakers({ store: s.a, clock, cacheMs: 60_000 });
    const there = createBreakers({ store: s.b, clock, cacheMs: 60_000 });
    const until = async (check: () => Promise<boolean>) => {
      const end = Date.now() + 5000;
      while (!(await check())) {
        if (Date.now() > end) throw new Error('not propagated in 5 s');
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    try {
      expect((await here.admit('provider:x')).ok).toBe(true); // cached closed
      await there.open('provider:x', { cooldownMs: null, by: 'operator:test', reason: 'maintenance' });
      await until(async () => !(await here.admit('provider:x')).ok);
      await there.close('provider:x', { by: 'operator:test', reason: 'done' });
      await until(async () => (await here.admit('provider:x')).ok);
    } finally {
      here.stop();
      there.stop();
    }
  });

  it('answers closed admits from memory, without reading the store', async () => {
    const { breakers, counts, clock } = setup();
    await breakers.admit('model:x');
    const reads = counts.get;
    const first = await breakers.admit('model:x');
    for (let i = 0; i < 1000; i++) {
      const a = await breakers.admit('model:x');
      await breakers.record('model:x', token(a), true);
    }
    expect(counts.get).toBe(reads);
    expect(counts.cas).toBe(0);
    expect(await breakers.admit('model:x')).toBe(first); // shared, frozen admission
    await clock.advance(1_000); // the cache expires: one read refreshes it
    await breakers.admit('model:x');
    expect(counts.get).toBe(reads + 1);
  });

  it('operators open (held or timed), close and reset', async () => {
    const { breakers, clock, changes } = setup();
    await breakers.open('provider:openai', { cooldownMs: null, by: 'operator:ann', reason: 'vendor incident' });
    expect(await breakers.admit('provider:openai')).toEqual({ ok: false, retryAfterMs: null });
    await clock.advance(3_600_000);
    expect(await breakers.admit('provider:openai')).toEqual({ ok: false, retryAfterMs: null });
    await breakers.close('provider:openai', { by: 'operator:ann', reason: 'resolved' });
    expect(await breakers.admit('provider:openai')).toMatchObject({ ok: true });

    await breakers.open('provider:openai', { cooldownMs: 5_000, halfOpenProbes: 1, by: 'operator:ann', reason: 'test' });
    expect(await breakers.admit('provider:openai')).toEqual({ ok: false, retryAfterMs: 5_000 });
    await clock.advance(5_000);
    const probe = await breakers.admit('provider:openai');
    expect(probe).toMatchObject({ ok: true, probe: true });
    expect((await breakers.admit('provider:openai')).ok).toBe(false); // one probe only

    await breakers.reset('provider:openai', { by: 'operator:bob', reason: 'reset' });
    expect(await breakers.list()).toEqual([]);
    expect(await breakers.admit('provider:openai')).toMatchObject({ ok: true, probe: false });
    expect(changes.map((c) => `${c.to} by ${c.by}`)).toEqual([
      'open by operator:ann',
      'closed by operator:ann',
      'open by operator:ann',
      'halfOpen by operator:ann',
      'closed by operator:bob',
    ]);
  });

  it('applies per-kind and per-scope overrides; failureThreshold 0 disables the automatic breaker', async () => {
    const { breakers } = setup({ overrides: { 'tool:*': { failureThreshold: 2 }, 'model:x': { failureThreshold: 0 } } });
    for (let i = 0; i < 2; i++) await breakers.record('tool:a.b', token(await breakers.admit('tool:a.b')), false);
    expect((await breakers.get('tool:a.b')).kind).toBe('open');
    for (let i = 0; i < 50; i++) await breakers.record('model:x', token(await breakers.admit('model:x')), false);
    expect((await breakers.get('model:x')).kind).toBe('closed');
    expect(breakers.policy('provider:sim').failureThreshold).toBe(5);
  });

  it('two replicas sharing a store admit N probes in total, not N each', async () => {
    const { breakers, clock, other } = setup();
    const replica = createBreakers({ store: other, clock });
    await breakers.open('provider:sim', { cooldownMs: 1_000, halfOpenProbes: 3, by: 'operator:ann', reason: 'test' });
    await clock.advance(1_000);
    const admissions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? breakers : replica).admit('provider:sim')));
    expect(admissions.filter((a) => a.ok)).toHaveLength(3);
    expect(admissions.filter((a) => !a.ok).every((a) => !a.ok && a.retryAfterMs! > 0)).toBe(true);
  });

  it('a replica sees another replica open the breaker once its cache expires', async () => {
    const { breakers, clock, other } = setup();
    const replica = createBreakers({ store: other, clock, cacheMs: 500 });
    expect((await replica.admit('provider:sim')).ok).toBe(true);
    await breakers.open('provider:sim', { by: 'alarm:x', reason: 'errors' });
    await clock.advance(500);
    expect(await replica.admit('provider:sim')).toEqual({ ok: false, retryAfterMs: 29_500 });
  });

  it('fails closed with store.unavailable when the store cannot be read', async () => {
    const clock = new FakeClock();
    const broken: BreakerStore = {
      kind: 'broken',
      get: async () => {
        throw new Error('disk on fire');
      },
      compareAndSet: async () => {
        throw new Error('disk on fire');
      },
      delete: async () => {},
      list: async () => [],
    };
    close = () => {};
    const breakers = createBreakers({ store: broken, clock });
    await expect(breakers.admit('provider:sim')).rejects.toMatchObject({ code: 'store.unavailable', details: { scope: 'provider:sim' } });
  });
});

describe('createBreakers options', () => {
  it('rejects bad policies eagerly', () => {
    expect(() => createBreakers({ store: createMemoryBreakerStore(), defaults: { halfOpenProbes: 0 } })).toThrow(/defaults.halfOpenProbes/);
    expect(() => createBreakers({ store: createMemoryBreakerStore(), overrides: { 'tool:*': { cooldownMs: -1 } } })).toThrow(/overrides\[tool:\*\].cooldownMs/);
  });
});
