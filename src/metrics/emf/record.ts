import type { CallEvent } from '../event.ts';

/**
 * One call event as a CloudWatch Embedded Metric Format document: the metrics of src/metrics/names.ts
 * (same names, same per-scope meaning) with one dimension set per scope kind the event names, so
 * CloudWatch keeps exactly the series fmguard keeps: `global` (no dimension), `tenant`, `agent`,
 * `model`, `provider`, `server`, `tool`. An alarm on scope `agent:bot`, metric `errors` is then the
 * CloudWatch metric `errors` with the single dimension `agent = bot` in the same namespace.
 *
 * What one document counts follows names.ts: `calls` 1 per call that reached upstream, `errors` and
 * `timeouts` 0 or 1 per such call (Average = rate), latency, tokens and cost per such call; a refused
 * call only counts `refusals` and `refusals:<code>`.
 */
export interface EmfMetricDefinition {
  Name: string;
  Unit: EmfUnit;
}

export type EmfUnit = 'Count' | 'Milliseconds' | 'None';

export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: EmfMetricDefinition[] }>;
  };
  [member: string]: unknown;
}

/** The CloudWatch unit of each fmguard metric. */
export const EMF_UNITS: Readonly<Record<string, EmfUnit>> = {
  calls: 'Count',
  errors: 'Count',
  timeouts: 'Count',
  refusals: 'Count',
  latency_ms: 'Milliseconds',
  input_tokens: 'Count',
  output_tokens: 'Count',
  cost_usd: 'None',
};

/** Scope kinds in names.ts order; each is a dimension name and a one-dimension set. */
const DIMENSIONS = ['tenant', 'agent', 'model', 'provider', 'server', 'tool'] as const;

export function emfDocument(event: CallEvent, namespace: string, timestamp: number): EmfDocument {
  const values: Record<string, number> = {};
  if (event.outcome === 'refused') {
    values.refusals = 1;
    if (event.code !== undefined) values[`refusals:${event.code}`] = 1;
  } else {
    values.calls = 1;
    values.errors = event.outcome === 'success' ? 0 : 1;
    values.timeouts = event.outcome === 'timeout' ? 1 : 0;
    if (event.latencyMs !== undefined) values.latency_ms = event.latencyMs;
    if (event.inputTokens !== undefined) values.input_tokens = event.inputTokens;
    if (event.outputTokens !== undefined) values.output_tokens = event.outputTokens;
    if (event.costUsd !== undefined) values.cost_usd = event.costUsd;
  }
  const dimensionSets: string[][] = [[]];
  const dimensions: Record<string, string> = {};
  for (const name of DIMENSIONS) {
    const value = event[name];
    if (value === undefined) continue;
    dimensions[name] = value;
    dimensionSets.push([name]);
  }
  const metrics = Object.keys(values).map((name) => ({ Name: name, Unit: EMF_UNITS[name] ?? 'Count' }));
  return {
    _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: namespace, Dimensions: dimensionSets, Metrics: metrics }] },
    ...dimensions,
    ...values,
    // Not metrics: kept in the log event for CloudWatch Logs Insights.
    outcome: event.outcome,
    ...(event.code !== undefined ? { code: event.code } : {}),
  };
}
