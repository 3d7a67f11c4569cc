import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmSnapshot, AlarmStateStore } from '../../src/store/alarms.ts';

const snapshot = (over: Partial<AlarmSnapshot> = {}): AlarmSnapshot => ({
  state: 'OK',
  since: 1000,
  reason: 'threshold not crossed',
  opened: [],
  killed: [],
  ...over,
});

/** Two handles on one backend's alarm state (two replicas; the same store when it has no second handle). */
export type AlarmPair = () => Promise<{ a: AlarmStateStore; b: AlarmStateStore; close: () => Promise<void> | void }>;

/** The alarm-state section of the store contract: get, list, compare-and-set on the version. */
export function alarmSections(name: string, make: AlarmPair): void {
  describe(`store contract: ${name}: alarm state`, () => {
    let close: () => Promise<void> | void = () => {};
    afterEach(() => close());

    it('creates with version 0 → 1, then compare-and-sets on the version; the other handle sees it', async () => {
      const s = await make();
      close = s.close;
      expect(await s.a.get('sim-errors')).toBeUndefined();
      const alarm = snapshot({ state: 'ALARM', reason: '3 of 6 datapoints breached', opened: ['provider:sim'] });
      expect(await s.a.compareAndSet('sim-errors', 0, alarm)).toEqual({ ok: true, record: { scope: 'sim-errors', state: alarm, version: 1 } });
      expect(await s.b.get('sim-errors')).toEqual({ scope: 'sim-errors', state: alarm, version: 1 });
      expect(await s.b.compareAndSet('sim-errors', 0, snapshot())).toEqual({ ok: false, current: { scope: 'sim-errors', state: alarm, version: 1 } });
      const ok = await s.b.compareAndSet('sim-errors', 1, snapshot({ since: 2000 }));
      expect(ok.ok && ok.record.version).toBe(2);
      expect((await s.a.get('sim-errors'))?.state).toEqual(snapshot({ since: 2000 }));
      expect(await s.a.compareAndSet('unknown', 3, snapshot())).toEqual({ ok: false, current: undefined });
    });

    it('lists every alarm by name, with its version', async () => {
      const s = await make();
      close = s.close;
      for (const name of ['c-latency', 'a-errors', 'b-cost']) await s.a.compareAndSet(name, 0, snapshot());
      await s.a.compareAndSet('b-cost', 1, snapshot({ state: 'ALARM' }));
      expect((await s.b.list()).map((r) => [r.scope, r.state.state, r.version])).toEqual([
        ['a-errors', 'OK', 1],
        ['b-cost', 'ALARM', 2],
        ['c-latency', 'OK', 1],
      ]);
      await s.b.delete('a-errors');
      expect((await s.a.list()).map((r) => r.scope)).toEqual(['b-cost', 'c-latency']);
    });

    it('returns copies: changing a returned record does not change the store', async () => {
      const s = await make();
      close = s.close;
      await s.a.compareAndSet('sim-errors', 0, snapshot({ killed: ['agent:bot'] }));
      const got = await s.a.get('sim-errors');
      got!.state.killed.push('global');
      expect((await s.a.get('sim-errors'))!.state.killed).toEqual(['agent:bot']);
    });

    it('exactly one of many concurrent compare-and-sets on the same version wins (once per fleet)', async () => {
      const s = await make();
      close = s.close;
      await s.a.compareAndSet('sim-errors', 0, snapshot());
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? s.a : s.b).compareAndSet('sim-errors', 1, snapshot({ state: 'ALARM', since: i }))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect((await s.a.get('sim-errors'))?.version).toBe(2);
    });
  });
}
