import { createRequire } from 'node:module';
import type { Histogram, LabelValues, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

// prom-client is required when metrics are created (a guard or gateway starts), not when fmguard is imported.
const require = createRequire(import.meta.url);
const promClient = () => require('prom-client') as typeof import('prom-client');
import type { CallEvent } from './event.ts';

/**
 * Prometheus instruments for calls, on a private registry. Names follow Prometheus conventions
 * (`_total` counters, base units: seconds); labels use the OpenTelemetry GenAI attribute names
 * where one exists (`gen_ai_operation_name`, `gen_ai_provider_name`, `gen_ai_request_model`,
 * `gen_ai_tool_name`, `gen_ai_token_type`, `error_type`), and `fmguard_tenant` / `fmguard_agent`
 * where none does. The duration histogram leaves out tenant and agent to bound its series count.
 *
 * prom-client hashes and validates the label set on every inc/observe (~5 µs each, several per
 * call), so the hot path only adds into plain per-series records here; counters are brought up to
 * date in their `collect()` at scrape time, and the histogram is a pre-aggregated collector that
 * the registry formats like its own.
 */
export interface PromInstruments {
  readonly registry: Registry;
  observe(event: CallEvent): void;
}

export interface PromOptions {
  registry?: Registry;
  /** Metric name prefix; default `fmguard_`. */
  prefix?: string;
  /** Duration buckets in seconds; default the OpenTelemetry GenAI operation-duration buckets. */
  durationBuckets?: number[];
}

/** gen_ai.client.operation.duration's recommended boundaries (seconds). */
export const GENAI_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

const CALL_LABELS = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_tool_name', 'fmguard_tenant', 'fmguard_agent'] as const;
const TOKEN_LABELS = ['gen_ai_provider_name', 'gen_ai_request_model', 'fmguard_tenant', 'fmguard_agent', 'gen_ai_token_type'] as const;
const DURATION_LABELS = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_tool_name', 'outcome'] as const;

type Labels = Record<string, string>;

/** A counter series: its labels, what it has counted, and what prom-client has been told. */
interface Tally {
  labels: Labels;
  value: number;
  reported: number;
}

/** A counter whose increments are summed in plain records and handed to prom-client on scrape. */
function tallyCounter(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
  const series = new Map<string, Tally>();
  const counter = new (promClient().Counter)({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const tally of series.values()) {
        if (tally.value > tally.reported) {
          this.inc(tally.labels as LabelValues<string>, tally.value - tally.reported);
          tally.reported = tally.value;
        }
      }
    },
  });
  return {
    counter,
    /** The series for these label values (created once; callers keep the reference). */
    series(values: readonly string[]): Tally {
      const key = values.join('\u0001');
      let tally = series.get(key);
      if (tally === undefined) {
        const labels: Labels = {};
        labelNames.forEach((n, i) => (labels[n] = values[i]));
        series.set(key, (tally = { labels, value: 0, reported: 0 }));
      }
      return tally;
    },
  };
}

interface HistSeries {
  labels: Labels;
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A histogram aggregated here and exposed through the registry in prom-client's own format. */
function preAggregatedHistogram(registry: Registry, name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
  const series = new Map<string, HistSeries>();
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames,
    async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
      const values: MetricValueWithName<string>[] = [];
      for (const s of series.values()) {
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += s.buckets[i];
          values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
        values.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
        values.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
    },
    reset() {
      series.clear();
    },
  };
  // The registry only needs name, type and get(); it formats the values like a prom-client Histogram.
  registry.registerMetric(metric as unknown as Histogram<string>);
  return {
    series(values: readonly string[]): HistSeries {
      const key = values.join('\u0001');
      let s = series.get(key);
      if (s === undefined) {
        const labels: Labels = {};
        labelNames.forEach((n, i) => (labels[n] = values[i]));
        series.set(key, (s = { labels, buckets: new Float64Array(bounds.length), sum: 0, count: 0 }));
      }
      return s;
    },
    observe(s: HistSeries, seconds: number) {
      let i = 0;
      while (i < bounds.length && seconds > bounds[i]) i++;
      if (i < bounds.length) s.buckets[i]++;
      s.sum += seconds;
      s.count++;
    },
  };
}

export function createPromInstruments({
  registry = new (promClient().Registry)(),
  prefix = 'fmguard_',
  durationBuckets = GENAI_DURATION_BUCKETS,
}: PromOptions = {}): PromInstruments {
  const calls = tallyCounter(
    registry,
    `${prefix}calls_total`,
    'Model and tool calls that reached upstream, by outcome (success, error, timeout) and error type (stop code).',
    [...CALL_LABELS, 'outcome', 'error_type'],
  );
  const refusals = tallyCounter(registry, `${prefix}refusals_total`, 'Calls refused before upstream, by stop code.', [...CALL_LABELS, 'code']);
  const tokens = tallyCounter(registry, `${prefix}tokens_total`, 'Tokens used by model calls, by token type (input, output).', TOKEN_LABELS);
  const cost = tallyCounter(registry, `${prefix}cost_usd_total`, 'Cost of calls in US dollars.', CALL_LABELS);
  const duration = preAggregatedHistogram(
    registry,
    `${prefix}operation_duration_seconds`,
    'Duration of calls that reached upstream, in seconds.',
    DURATION_LABELS,
    [...durationBuckets].sort((a, b) => a - b),
  );

  /** Everything one (operation, provider, model, tool, tenant, agent) combination touches. */
  interface Group {
    op: string;
    values: string[];
    calls: Map<string, Tally>;
    refusals: Map<string, Tally>;
    durations: Map<string, HistSeries>;
    input: Tally;
    output: Tally;
    cost: Tally;
  }
  const groups = new Map<string, Group>();

  return {
    registry,
    observe(event) {
      const op = event.tool !== undefined ? 'execute_tool' : 'chat';
      const provider = event.provider ?? '';
      const model = event.model ?? '';
      const tool = event.tool ?? '';
      const tenant = event.tenant ?? '';
      const agent = event.agent ?? '';
      const key = `${op}\u0001${provider}\u0001${model}\u0001${tool}\u0001${tenant}\u0001${agent}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = {
          op,
          values: [op, provider, model, tool, tenant, agent],
          calls: new Map(),
          refusals: new Map(),
          durations: new Map(),
          input: tokens.series([provider, model, tenant, agent, 'input']),
          output: tokens.series([provider, model, tenant, agent, 'output']),
          cost: cost.series([op, provider, model, tool, tenant, agent]),
        };
        groups.set(key, g);
      }
      if (event.outcome === 'refused') {
        const code = event.code ?? '_OTHER';
        let tally = g.refusals.get(code);
        if (tally === undefined) g.refusals.set(code, (tally = refusals.series([...g.values, code])));
        tally.value++;
        return;
      }
      const errorType = event.outcome === 'success' ? '' : (event.code ?? '_OTHER');
      const outcomeKey = errorType === '' ? event.outcome : `${event.outcome}\u0001${errorType}`;
      let tally = g.calls.get(outcomeKey);
      if (tally === undefined) g.calls.set(outcomeKey, (tally = calls.series([...g.values, event.outcome, errorType])));
      tally.value++;
      if (event.latencyMs !== undefined && event.latencyMs >= 0) {
        let hist = g.durations.get(event.outcome);
        if (hist === undefined) g.durations.set(event.outcome, (hist = duration.series([op, provider, model, tool, event.outcome])));
        duration.observe(hist, event.latencyMs / 1000);
      }
      if (event.inputTokens) g.input.value += event.inputTokens;
      if (event.outputTokens) g.output.value += event.outputTokens;
      if (event.costUsd) g.cost.value += event.costUsd;
    },
  };
}
