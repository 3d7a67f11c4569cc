import type { Statistic } from './series.ts';
import { emptySketch, sketchMerge, sketchQuantile, type Sketch } from './sketch.ts';

/** One period's aggregate of one metric in one scope: a CloudWatch statistic set, plus a sketch. */
export interface StatSet {
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch?: Sketch;
}

export function emptyStatSet(withSketch: boolean): StatSet {
  const set: StatSet = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  if (withSketch) set.sketch = emptySketch();
  return set;
}

/** Add `from` into `into` (replicas, or several base periods making one alarm period). */
export function mergeStatSet(into: StatSet, from: StatSet): void {
  into.count += from.count;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  if (from.sketch) {
    if (!into.sketch) into.sketch = emptySketch();
    sketchMerge(into.sketch, from.sketch);
  }
}

const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?|100)$/;

/** The percentile (0..100) a `pNN` statistic names, or undefined for the other statistics. */
export function percentileOf(statistic: string): number | undefined {
  const match = PERCENTILE.exec(statistic);
  return match ? Number(match[1]) : undefined;
}

export function isStatistic(value: unknown): value is Statistic {
  if (typeof value !== 'string') return false;
  return ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'].includes(value) || percentileOf(value) !== undefined;
}

/** The statistic's value, or null when the set has no samples (a missing datapoint). */
export function statisticValue(set: StatSet | undefined, statistic: Statistic): number | null {
  if (!set || set.count === 0) return null;
  switch (statistic) {
    case 'Sum':
      return set.sum;
    case 'Average':
      return set.sum / set.count;
    case 'Minimum':
      return set.min;
    case 'Maximum':
      return set.max;
    case 'SampleCount':
      return set.count;
  }
  const p = percentileOf(statistic);
  if (p === undefined || !set.sketch) return null;
  const value = sketchQuantile(set.sketch, p / 100);
  if (value === undefined) return null;
  // The sketch is exact to 1 %; the true extremes are known exactly.
  return Math.min(set.max, Math.max(set.min, value));
}
