import { afterEach, describe, expect, it } from 'vitest';
import { initialBreakerState, type BreakerState } from '../../src/breakers/state.ts';
import type { BreakerStore } from '../../src/store/breakers.ts';

const closed = (failures: number): BreakerState => ({ kind: 'closed', epoch: 0, since: 0, failures });

/** Two handles on one backend's breaker state (two replicas; the same store when it has no second handle). */
export type BreakerPair = () => Promise<{ a: BreakerStore; b: BreakerStore; close: () => Promise<void> | void }>;

/** The breakers section of the store contract. */
export function breakerSections(name: string, make: BreakerPair): void {
  describe(`store contract: ${name}: breakers`, () => {
    let close: () => Promise<void> | void = () => {};
    afterEach(() => close());

    it('creates with version 0 → 1, then compare-and-sets on the version', async () => {
      const s = await make();
      close = s.close;
      expect(await s.a.get('provider:sim')).toBeUndefined();
      const state = initialBreakerState(1);
      const first = await s.a.compareAndSet('provider:sim', 0, state);
      expect(first).toEqual({ ok: true, record: { scope: 'provider:sim', state, version: 1 } });
      const stale = await s.b.compareAndSet('provider:sim', 0, closed(3));
      expect(stale).toEqual({ ok: false, current: { scope: 'provider:sim', state, version: 1 } });
      const second = await s.b.compareAndSet('provider:sim', 1, closed(3));
      expect(second.ok && second.record.version).toBe(2);
      expect((await s.a.get('provider:sim'))?.state).toMatchObject({ failures: 3 });
      expect(await s.a.compareAndSet('nothing:here', 4, closed(1))).toEqual({ ok: false, current: undefined });
    });

    it('lists by scope and deletes', async () => {
      const s = await make();
      close = s.close;
      for (const scope of ['tool:demo.search', 'model:x', 'provider:sim']) await s.a.compareAndSet(scope, 0, initialBreakerState(0));
      expect((await s.b.list()).map((r) => r.scope)).toEqual(['model:x', 'provider:sim', 'tool:demo.search']);
      await s.b.delete('model:x');
      expect((await s.a.list()).map((r) => r.scope)).toEqual(['provider:sim', 'tool:demo.search']);
      expect(await s.a.compareAndSet('model:x', 0, initialBreakerState(0))).toMatchObject({ ok: true });
    });

    it('returns copies: changing a returned record does not change the store', async () => {
      const s = await make();
      close = s.close;
      await s.a.compareAndSet('provider:sim', 0, initialBreakerState(0));
      const got = await s.a.get('provider:sim');
      (got!.state as { failures: number }).failures = 99;
      expect((await s.a.get('provider:sim'))!.state).toMatchObject({ failures: 0 });
    });

    it('exactly one of many concurrent compare-and-sets on the same version wins', async () => {
      const s = await make();
      close = s.close;
      await s.a.compareAndSet('provider:sim', 0, initialBreakerState(0));
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? s.a : s.b).compareAndSet('provider:sim', 1, closed(i))));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('subscribe: a change made through the other handle (another replica) is announced with its version; delete too', async () => {
      const s = await make();
      close = s.close;
      expect(typeof s.a.subscribe).toBe('function');
      const heard: Array<[string, number | undefined]> = [];
      const stop = s.a.subscribe!((scope, version) => {
        if (scope !== '*') heard.push([scope, version]);
      });
      try {
        // Redis: the subscription is established asynchronously.
        await new Promise((r) => setTimeout(r, 100));
        const wait = async (n: number) => {
          const end = Date.now() + 5000;
          while (heard.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        };
        await s.b.compareAndSet('provider:sim', 0, initialBreakerState(0));
        await wait(1);
        await s.b.compareAndSet('provider:sim', 1, closed(2));
        await wait(2);
        await s.b.delete('provider:sim');
        await wait(3);
        expect(heard).toEqual([
          ['provider:sim', 1],
          ['provider:sim', 2],
          ['provider:sim', undefined],
        ]);
      } finally {
        stop();
      }
    });
  });
}
