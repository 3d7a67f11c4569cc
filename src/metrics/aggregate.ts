import type { Sketch } from './sketch.ts';
import type { MetricRow } from '../store/metrics.ts';

/**
 * The hot-path side of metrics: running per-period aggregates for the current period of each
 * scope, in fixed slots (no per-sample allocation, no string building beyond the scope id lookup).
 * Finished periods are handed to the flusher as rows.
 */

/** A running statistic set; the sketch bins live in a Map (numeric keys stay fast). */
interface Slot {
  count: number;
  sum: number;
  min: number;
  max: number;
  zero: number;
  bins: Map<number, number> | null;
}

const SLOT_METRICS = ['calls', 'errors', 'timeouts', 'refusals', 'latency_ms', 'input_tokens', 'output_tokens', 'cost_usd'] as const;
const CALLS = 0;
const ERRORS = 1;
const TIMEOUTS = 2;
const REFUSALS = 3;
const LATENCY = 4;
const INPUT = 5;
const OUTPUT = 6;
const COST = 7;
const HAS_SKETCH = [false, false, false, false, true, true, true, true];

export interface ScopeAgg {
  scope: string;
  start: number;
  dirty: boolean;
  slots: Array<Slot | null>;
  refusalsByCode: Map<string, Slot> | null;
}

function newSlot(sketch: boolean): Slot {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, zero: 0, bins: sketch ? new Map() : null };
}

function add(agg: ScopeAgg, index: number, value: number, bin: number | null): void {
  let slot = agg.slots[index];
  if (slot === null) slot = agg.slots[index] = newSlot(HAS_SKETCH[index]);
  slot.count++;
  slot.sum += value;
  if (value < slot.min) slot.min = value;
  if (value > slot.max) slot.max = value;
  if (slot.bins !== null) {
    if (bin === null) slot.zero++;
    else slot.bins.set(bin, (slot.bins.get(bin) ?? 0) + 1);
  }
}

/** Precomputed per event, then applied to each of its scopes. */
export interface Sample {
  refused: boolean;
  code: string | undefined;
  failed: boolean;
  timeout: boolean;
  latency: number | undefined;
  latencyBin: number | null;
  input: number | undefined;
  inputBin: number | null;
  output: number | undefined;
  outputBin: number | null;
  cost: number | undefined;
  costBin: number | null;
}

export function apply(agg: ScopeAgg, s: Sample): void {
  agg.dirty = true;
  if (s.refused) {
    add(agg, REFUSALS, 1, null);
    if (s.code !== undefined) {
      const byCode = (agg.refusalsByCode ??= new Map());
      let slot = byCode.get(s.code);
      if (!slot) byCode.set(s.code, (slot = newSlot(false)));
      slot.count++;
      slot.sum++;
      slot.min = 1;
      slot.max = 1;
    }
    return;
  }
  add(agg, CALLS, 1, null);
  add(agg, ERRORS, s.failed ? 1 : 0, null);
  add(agg, TIMEOUTS, s.timeout ? 1 : 0, null);
  if (s.latency !== undefined) add(agg, LATENCY, s.latency, s.latencyBin);
  if (s.input !== undefined) add(agg, INPUT, s.input, s.inputBin);
  if (s.output !== undefined) add(agg, OUTPUT, s.output, s.outputBin);
  if (s.cost !== undefined) add(agg, COST, s.cost, s.costBin);
}

export function newAgg(scope: string, start: number): ScopeAgg {
  return { scope, start, dirty: false, slots: [null, null, null, null, null, null, null, null], refusalsByCode: null };
}

function row(agg: ScopeAgg, metric: string, slot: Slot, source: string): MetricRow {
  const out: MetricRow = { scope: agg.scope, metric, start: agg.start, source, count: slot.count, sum: slot.sum, min: slot.min, max: slot.max };
  if (slot.bins !== null) {
    const bins: Sketch['bins'] = {};
    for (const [bin, count] of slot.bins) bins[bin] = count;
    out.sketch = { zero: slot.zero, bins };
  }
  return out;
}

/** The aggregate as store rows (a snapshot: later samples do not change them). */
export function toRows(agg: ScopeAgg, source: string): MetricRow[] {
  const rows: MetricRow[] = [];
  agg.slots.forEach((slot, i) => {
    if (slot !== null) rows.push(row(agg, SLOT_METRICS[i], slot, source));
  });
  if (agg.refusalsByCode) for (const [code, slot] of agg.refusalsByCode) rows.push(row(agg, `refusals:${code}`, slot, source));
  return rows;
}
