import { afterEach, describe, expect, it } from 'vitest';
import type { MetricRow, MetricStore } from '../../src/store/metrics.ts';

/** A backend's metric store (and a second replica's handle on it, when it has one). */
export type MetricPair = () => Promise<{ store: MetricStore; other?: MetricStore; close: () => Promise<void> | void }>;

/** A metric row with defaults, for the metric tests. */
export const row = (over: Partial<MetricRow>): MetricRow => ({
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

/** The metric datapoints section of the store contract. */
export function metricSections(name: string, make: MetricPair): void {
  describe(`store contract: ${name}: metrics`, () => {
    let close: () => Promise<void> | void = () => {};
    afterEach(() => close());

    it('replaces rows by (scope, metric, start, source) and reads a time range of one scope', async () => {
      const s = await make();
      close = s.close;
      await s.store.write([row({ start: 0 }), row({ start: 10_000 }), row({ start: 20_000 }), row({ scope: 'global' }), row({ metric: 'errors' })]);
      await s.store.write([row({ start: 10_000, count: 5, sum: 5 }), row({ start: 10_000, source: 'r2', count: 2, sum: 2 })]);
      const rows = await s.store.read({ scope: 'provider:sim', metrics: ['calls'], from: 10_000, to: 30_000 });
      expect(rows.map((r) => [r.start, r.source, r.count])).toEqual(
        expect.arrayContaining([
          [10_000, 'r1', 5],
          [10_000, 'r2', 2],
          [20_000, 'r1', 1],
        ]),
      );
      expect(rows).toHaveLength(3);
      expect(await s.store.read({ scope: 'provider:sim', metrics: ['calls', 'errors'], from: 0, to: 10_000 })).toHaveLength(2);
      expect(await s.store.read({ scope: 'nobody', metrics: ['calls'], from: 0, to: 1e15 })).toEqual([]);
      expect(await s.store.read({ scope: 'provider:sim', metrics: [], from: 0, to: 1e15 })).toEqual([]);
    });

    it('replicas write their own rows, and each reads them all', async () => {
      const s = await make();
      close = s.close;
      const other = s.other ?? s.store;
      await s.store.write([row({ source: 'a', count: 3 })]);
      await other.write([row({ source: 'b', count: 4 })]);
      const rows = await other.read({ scope: 'provider:sim', metrics: ['calls'], from: 0, to: 1 });
      expect(rows.map((x) => x.count).sort()).toEqual([3, 4]);
    });

    it('keeps sketches and prunes old rows', async () => {
      const s = await make();
      close = s.close;
      await s.store.write([row({ metric: 'latency_ms', sketch: { zero: 1, bins: { '230': 2, '-3': 1 } } }), row({ start: 60_000 })]);
      const [got] = await s.store.read({ scope: 'provider:sim', metrics: ['latency_ms'], from: 0, to: 1 });
      expect(got.sketch).toEqual({ zero: 1, bins: { '230': 2, '-3': 1 } });
      expect(await s.store.prune(60_000)).toBe(1);
      expect(await s.store.read({ scope: 'provider:sim', metrics: ['latency_ms', 'calls'], from: 0, to: 1e15 })).toHaveLength(1);
    });
  });
}
