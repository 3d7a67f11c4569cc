import type { Sketch } from '../store/metrics.ts';

/**
 * A small mergeable quantile sketch (the DDSketch idea): values fall into logarithmic bins whose
 * width is 1 % of the value, so any percentile is known within 1 % relative error, replicas merge
 * by adding bin counts, and the serialized form stays small (one bin per ~2 % of range in use).
 * Values <= 0 go to a zero bin (latency, tokens and cost are never negative).
 */
export type { Sketch } from '../store/metrics.ts';

const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);
/** Smallest value that gets its own bin; below it counts as zero. */
const MIN_VALUE = 1e-9;

export function emptySketch(): Sketch {
  return { zero: 0, bins: {} };
}

/** The bin for `value`, or null for the zero bin. Computed once per value and reused per scope. */
export function sketchBin(value: number): number | null {
  return value > MIN_VALUE ? Math.ceil(Math.log(value) / LOG_GAMMA) : null;
}

export function sketchAddBin(sketch: Sketch, bin: number | null, count = 1): void {
  if (bin === null) sketch.zero += count;
  else sketch.bins[bin] = (sketch.bins[bin] ?? 0) + count;
}

export function sketchAdd(sketch: Sketch, value: number): void {
  sketchAddBin(sketch, sketchBin(value));
}

export function sketchMerge(into: Sketch, from: Sketch): void {
  into.zero += from.zero;
  for (const key in from.bins) into.bins[key] = (into.bins[key] ?? 0) + from.bins[key];
}

export function sketchCount(sketch: Sketch): number {
  let n = sketch.zero;
  for (const key in sketch.bins) n += sketch.bins[key];
  return n;
}

/**
 * The value at quantile `q` (0..1), nearest-rank: the smallest value with at least q of the data
 * at or below it. Undefined for an empty sketch.
 */
export function sketchQuantile(sketch: Sketch, q: number): number | undefined {
  const total = sketchCount(sketch);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = sketch.zero;
  if (seen >= rank) return 0;
  const keys = Object.keys(sketch.bins)
    .map(Number)
    .sort((a, b) => a - b);
  for (const key of keys) {
    seen += sketch.bins[key];
    if (seen >= rank) return (2 * GAMMA ** key) / (GAMMA + 1);
  }
  return (2 * GAMMA ** keys[keys.length - 1]) / (GAMMA + 1);
}

export function cloneSketch(sketch: Sketch): Sketch {
  return { zero: sketch.zero, bins: { ...sketch.bins } };
}
