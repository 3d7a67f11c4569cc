import { parseDuration } from '../alarms/duration.ts';
import { invalid } from './request.ts';

/** A time range cut into equal periods, aligned so the last one holds now. */
export interface PeriodRange {
  from: number;
  /** Exclusive; the end of the period that holds now. */
  to: number;
  periodMs: number;
  count: number;
  /** Start of each period. */
  times: number[];
}

/** The `range` query parameter in ms (`15m`, `1h`, `6h`, `24h` or ms), bounded. */
export function rangeMsOf(query: URLSearchParams, fallbackMs: number, maxMs: number): number {
  const text = query.get('range');
  if (text === null || text === '') return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 60_000 || ms > maxMs)
    throw invalid(`range: expected a duration from 1m to ${maxMs / 3_600_000}h (e.g. 15m, 1h, 24h), got "${text}"`, 'range');
  return ms;
}

const NICE_PERIODS = [10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000];

/** The shortest period, a multiple of the metric resolution, that cuts `rangeMs` into at most `points` periods. */
export function periodFor(rangeMs: number, resolutionMs: number, points = 180): number {
  for (const p of NICE_PERIODS) if (p % resolutionMs === 0 && rangeMs / p <= points) return p;
  return resolutionMs * Math.max(1, Math.ceil(rangeMs / resolutionMs / points));
}

/** `count` periods of `periodMs` ending with the one that holds `now`. */
export function periodRange(now: number, rangeMs: number, periodMs: number): PeriodRange {
  const to = Math.floor(now / periodMs) * periodMs + periodMs;
  const count = Math.max(1, Math.ceil(rangeMs / periodMs));
  const from = to - count * periodMs;
  return { from, to, periodMs, count, times: Array.from({ length: count }, (_, i) => from + i * periodMs) };
}
