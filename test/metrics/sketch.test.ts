import { describe, expect, it } from 'vitest';
import { emptySketch, sketchAdd, sketchMerge, sketchQuantile } from '../../src/metrics/sketch.ts';
import { emptyStatSet, mergeStatSet, statisticValue } from '../../src/metrics/stat-set.ts';

/** A deterministic pseudo-random sequence (no flaky tests). */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
}

const exact = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];

describe('quantile sketch', () => {
  it('is within 1 % of the exact nearest-rank percentile', () => {
    const rand = lcg(7);
    const values = Array.from({ length: 5000 }, () => Math.exp(rand() * 10)); // 1 .. 22026, log-spread
    const sketch = emptySketch();
    for (const v of values) sketchAdd(sketch, v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1]) {
      const got = sketchQuantile(sketch, q)!;
      expect(Math.abs(got - exact(sorted, q)) / exact(sorted, q)).toBeLessThan(0.01);
    }
  });

  it('merges replicas by adding bins, and keeps zeros', () => {
    const a = emptySketch();
    const b = emptySketch();
    for (let i = 1; i <= 50; i++) sketchAdd(a, i);
    for (let i = 51; i <= 100; i++) sketchAdd(b, i);
    sketchAdd(b, 0);
    sketchMerge(a, b);
    expect(sketchQuantile(a, 0.005)).toBe(0);
    expect(sketchQuantile(a, 0.5)! / 50).toBeCloseTo(1, 1);
    expect(sketchQuantile(emptySketch(), 0.5)).toBeUndefined();
  });
});

describe('statistics', () => {
  it('computes Sum, Average, Minimum, Maximum, SampleCount and pNN; missing when empty', () => {
    const set = emptyStatSet(true);
    const add = (v: number) => {
      const one = emptyStatSet(true);
      one.count = 1;
      one.sum = v;
      one.min = v;
      one.max = v;
      sketchAdd(one.sketch!, v);
      mergeStatSet(set, one);
    };
    [10, 20, 30, 40, 1000].forEach(add);
    expect(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'].map((s) => statisticValue(set, s as never))).toEqual([1100, 220, 10, 1000, 5]);
    expect(statisticValue(set, 'p50')! / 30).toBeCloseTo(1, 1);
    expect(statisticValue(set, 'p100')).toBe(1000); // clamped to the exact maximum
    expect(statisticValue(emptyStatSet(true), 'Sum')).toBeNull();
    expect(statisticValue(undefined, 'Average')).toBeNull();
  });
});
