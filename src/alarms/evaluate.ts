import type { AlarmState } from '../store/alarms.ts';
import type { Datapoint } from '../metrics/series.ts';
import type { Comparison, TreatMissingData } from './types.ts';

/** One period's value; `null` when the period has no data. */
export type { Datapoint } from '../metrics/series.ts';

export interface EvaluationConfig {
  /** N. */
  evaluationPeriods: number;
  /** M; default N. */
  datapointsToAlarm?: number;
  comparison: Comparison;
  threshold: number;
  /** Default `missing`. */
  treatMissingData?: TreatMissingData;
}

export interface Evaluation {
  state: AlarmState;
  /** Human-readable, for the audit log and `/admin/alarms`. */
  reason: string;
  /** Breaching datapoints counted (real, plus filled ones where the setting fills). */
  breaching: number;
  /** Real datapoints in the evaluation range. */
  real: number;
}

/**
 * How many periods CloudWatch fetches: more than N, so a few missing points can be skipped. The
 * docs give 5 for N = 3 and no formula; we use N + 2.
 */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + 2;
}

export function breaches(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * Judge one alarm the way CloudWatch does (aws-semantics.md §4). `points` are oldest → newest and
 * should cover the evaluation range; a shorter array counts as missing at the old end, a longer one
 * is cut to the range. `current` is the alarm's state now (what `ignore` keeps). Pure.
 *
 * 1. With at least N real points in the range, the newest N real points decide; the missing-data
 *    setting is not used.
 * 2. Otherwise `breaching` / `notBreaching` fill as few gaps as needed (N − real) and every real
 *    point in the range counts.
 * 3. `missing` / `ignore` count the real points only: no real point → INSUFFICIENT_DATA (`missing`)
 *    or keep the state (`ignore`); at least M breaching → ALARM. Premature-alarm rule: if every
 *    real point breaches and the oldest is at least M periods old (the newest period is 1 old),
 *    `missing` goes to ALARM. Under `ignore`, a range whose real points all breach but are too few
 *    or too recent to decide keeps the state. Anything else → OK.
 */
export function evaluateAlarm(points: readonly Datapoint[], config: EvaluationConfig, current: AlarmState): Evaluation {
  const n = config.evaluationPeriods;
  const m = config.datapointsToAlarm ?? n;
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`evaluationPeriods must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < 1 || m > n) throw new TypeError(`datapointsToAlarm must be an integer in 1..${n}, got ${m}`);
  const mode = config.treatMissingData ?? 'missing';
  const range = evaluationRange(n);
  const window = points.length > range ? points.slice(points.length - range) : points;
  const offset = range - window.length; // missing points at the old end

  // Real points, oldest first, with their age in periods (newest = 1) and whether they breach.
  const real: Array<{ age: number; breach: boolean }> = [];
  for (let i = 0; i < window.length; i++) {
    const value = window[i];
    if (value === null || value === undefined || Number.isNaN(value)) continue;
    real.push({ age: range - (offset + i), breach: breaches(value, config.comparison, config.threshold) });
  }
  const need = `${m} of ${n}`;

  if (real.length >= n) {
    const used = real.slice(real.length - n);
    const count = used.filter((p) => p.breach).length;
    return decide(count >= m, count, real.length, `${count} of the newest ${n} real datapoints breached (${need} needed)`);
  }

  const realBreaching = real.filter((p) => p.breach).length;

  if (mode === 'breaching' || mode === 'notBreaching') {
    const filled = n - real.length;
    const count = realBreaching + (mode === 'breaching' ? filled : 0);
    const how = mode === 'breaching' ? 'breaching' : 'not breaching';
    return decide(count >= m, count, real.length, `${real.length} real datapoints and ${filled} missing treated as ${how}: ${count} breached (${need} needed)`);
  }

  if (real.length === 0) {
    if (mode === 'ignore') return { state: current, reason: `all ${range} datapoints missing; state kept (ignore)`, breaching: 0, real: 0 };
    return { state: 'INSUFFICIENT_DATA', reason: `all ${range} datapoints missing`, breaching: 0, real: 0 };
  }

  if (realBreaching >= m) {
    return decide(true, realBreaching, real.length, `${realBreaching} of ${real.length} real datapoints breached (${need} needed)`);
  }

  const allBreach = realBreaching === real.length;
  if (allBreach && mode === 'ignore') {
    return { state: current, reason: `only ${real.length} real datapoints, all breaching; state kept (ignore)`, breaching: realBreaching, real: real.length };
  }
  if (allBreach && real[0].age >= m) {
    return {
      state: 'ALARM',
      reason: `premature alarm: oldest breaching datapoint is ${real[0].age} periods old (>= ${m}) and every newer one breaches or is missing`,
      breaching: realBreaching,
      real: real.length,
    };
  }
  return decide(false, realBreaching, real.length, `${realBreaching} of ${real.length} real datapoints breached (${need} needed)`);
}

function decide(alarm: boolean, breaching: number, real: number, reason: string): Evaluation {
  return { state: alarm ? 'ALARM' : 'OK', reason, breaching, real };
}
