import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../core/clock.ts';
import { apply, newAgg, toRows, type Sample, type ScopeAgg } from './aggregate.ts';
import type { CallEvent } from './event.ts';
import { DEFAULT_RESOLUTION_MS, type DatapointSource } from './series.ts';
import { createPromInstruments, type PromInstruments } from './prometheus.ts';
import { sketchBin } from './sketch.ts';
import { emptyStatSet, mergeStatSet, statisticValue, type StatSet } from './stat-set.ts';
import type { MetricRow, MetricStore } from '../store/metrics.ts';

export interface MetricsOptions {
  clock?: Clock;
  /** Where datapoints go (`store.metrics` of the guard's store). */
  store: MetricStore;
  /** This replica's id in the store; default a random UUID. */
  source?: string;
  /** Base period of stored datapoints; alarm periods must be multiples of it. Default 10 s. */
  resolutionMs?: number;
  /** How long datapoints are kept; default 25 h (alarms look back at most a day plus two periods). */
  retentionMs?: number;
  /** How often `start()` flushes to the store; default every resolution period. */
  flushIntervalMs?: number;
  /** Prometheus instruments; default a fresh set on a private registry. */
  prometheus?: PromInstruments;
  /** Where background flush failures go (the library never logs). */
  onError?: (error: unknown) => void;
}

export interface Metrics extends DatapointSource {
  /** Count one call in every scope it names. Synchronous and allocation-light: the hot path. */
  record(event: CallEvent): void;
  /** Write this replica's changed datapoints to the store. */
  flush(): Promise<void>;
  /** Prometheus text exposition of the counters and histograms. */
  prometheusText(): Promise<string>;
  readonly contentType: string;
  readonly registry: Registry;
  readonly store: MetricStore;
  readonly resolutionMs: number;
  /** Flush periodically on the clock. */
  start(): void;
  /** Stop the timer and flush once more. */
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 60_000;
const KINDS = ['tenant', 'agent', 'model', 'provider', 'server', 'tool'] as const;

export function createMetrics({
  clock = systemClock,
  store,
  source = randomUUID(),
  resolutionMs = DEFAULT_RESOLUTION_MS,
  retentionMs = 25 * 3_600_000,
  flushIntervalMs = resolutionMs,
  prometheus = createPromInstruments(),
  onError = () => {},
}: MetricsOptions): Metrics {
  if (!Number.isInteger(resolutionMs) || resolutionMs <= 0) throw new TypeError(`resolutionMs must be a positive integer, got ${resolutionMs}`);
  // Current-period aggregate per scope, looked up by kind then id (no key strings per call).
  const byKind = new Map<string, Map<string, ScopeAgg>>(KINDS.map((k) => [k, new Map()]));
  const globalScope = new Map<string, ScopeAgg>();
  /** Aggregates of periods that ended with samples not yet written. */
  let finished: ScopeAgg[] = [];
  let lastPrune = -Infinity;
  let timer: unknown;
  let flushing: Promise<void> = Promise.resolve();

  const touch = (map: Map<string, ScopeAgg>, kind: string, id: string, start: number, sample: Sample) => {
    let agg = map.get(id);
    if (agg === undefined) {
      agg = newAgg(kind === 'global' ? 'global' : `${kind}:${id}`, start);
      map.set(id, agg);
    } else if (agg.start !== start) {
      if (agg.dirty) finished.push(agg);
      agg = newAgg(agg.scope, start);
      map.set(id, agg);
    }
    apply(agg, sample);
  };

  const doFlush = async () => {
    const now = clock.now();
    const current = now - (now % resolutionMs);
    const written = finished;
    finished = [];
    const rows: MetricRow[] = [];
    for (const agg of written) rows.push(...toRows(agg, source));
    const flushed: Array<[Map<string, ScopeAgg>, string, ScopeAgg]> = [];
    for (const map of [globalScope, ...byKind.values()]) {
      for (const [id, agg] of map) {
        if (agg.dirty) {
          rows.push(...toRows(agg, source));
          agg.dirty = false;
          flushed.push([map, id, agg]);
        } else if (agg.start < current) {
          map.delete(id); // an idle scope: its last period is already in the store
        }
      }
    }
    try {
      await store.write(rows);
    } catch (error) {
      // Not written: mark dirty again, or queue it if its period rolled over meanwhile.
      finished.unshift(...written);
      for (const [map, id, agg] of flushed) {
        agg.dirty = true;
        if (map.get(id) !== agg) finished.push(agg);
      }
      throw error;
    }
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      await store.prune(now - retentionMs);
    }
  };

  const flush = () => {
    // One flush at a time, so rows reach the store in order.
    const next = flushing.then(doFlush, doFlush);
    flushing = next.catch(() => {});
    return next;
  };

  const schedule = () => {
    timer = clock.setTimeout(() => {
      schedule();
      flush().catch(onError);
    }, flushIntervalMs);
    // Flushing metrics alone must not keep a process alive.
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };

  return {
    registry: prometheus.registry,
    contentType: prometheus.registry.contentType,
    store,
    resolutionMs,

    record(event) {
      prometheus.observe(event);
      const now = clock.now();
      const start = now - (now % resolutionMs);
      const sample: Sample = {
        refused: event.outcome === 'refused',
        code: event.code,
        failed: event.outcome === 'error' || event.outcome === 'timeout',
        timeout: event.outcome === 'timeout',
        latency: event.latencyMs,
        latencyBin: event.latencyMs !== undefined ? sketchBin(event.latencyMs) : null,
        input: event.inputTokens,
        inputBin: event.inputTokens !== undefined ? sketchBin(event.inputTokens) : null,
        output: event.outputTokens,
        outputBin: event.outputTokens !== undefined ? sketchBin(event.outputTokens) : null,
        cost: event.costUsd,
        costBin: event.costUsd !== undefined ? sketchBin(event.costUsd) : null,
      };
      touch(globalScope, 'global', '', start, sample);
      if (event.tenant !== undefined) touch(byKind.get('tenant')!, 'tenant', event.tenant, start, sample);
      if (event.agent !== undefined) touch(byKind.get('agent')!, 'agent', event.agent, start, sample);
      if (event.model !== undefined) touch(byKind.get('model')!, 'model', event.model, start, sample);
      if (event.provider !== undefined) touch(byKind.get('provider')!, 'provider', event.provider, start, sample);
      if (event.server !== undefined) touch(byKind.get('server')!, 'server', event.server, start, sample);
      if (event.tool !== undefined) touch(byKind.get('tool')!, 'tool', event.tool, start, sample);
    },

    flush,

    async series({ scope, metric, statistic, periodMs, end, count }) {
      if (periodMs % resolutionMs !== 0) throw new TypeError(`period ${periodMs} ms is not a multiple of the metric resolution ${resolutionMs} ms`);
      await flush();
      const from = end - count * periodMs;
      const derived = metric === 'error_rate';
      const metrics = derived ? ['errors', 'calls'] : [metric];
      const rows = await store.read({ scope, metrics, from, to: end });
      const periods: Array<Map<string, StatSet>> = Array.from({ length: count }, () => new Map());
      for (const row of rows) {
        const slot = periods[Math.floor((row.start - from) / periodMs)];
        if (!slot) continue;
        let set = slot.get(row.metric);
        if (!set) slot.set(row.metric, (set = emptyStatSet(false)));
        mergeStatSet(set, row);
      }
      return periods.map((slot) => {
        if (!derived) return statisticValue(slot.get(metric), statistic);
        const calls = slot.get('calls')?.sum ?? 0;
        return calls > 0 ? (slot.get('errors')?.sum ?? 0) / calls : null;
      });
    },

    prometheusText() {
      return prometheus.registry.metrics();
    },

    start() {
      if (timer === undefined) schedule();
    },

    async stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}
