import { isStopCode, type StopCode } from '../core/codes.ts';

/**
 * Metric names kept per scope and period. Each is a CloudWatch-style statistic set per period
 * (sample count, sum, minimum, maximum, plus a sketch for percentiles where it makes sense).
 *
 * What one sample is:
 * - `calls`: 1 per call that reached upstream (refused calls are not calls).
 * - `errors`, `timeouts`: 0 or 1 per upstream call, so Average = rate and Sum = count.
 *   A timeout is also an error.
 * - `refusals`, `refusals:<code>`: 1 per refused call.
 * - `latency_ms`, `input_tokens`, `output_tokens`, `cost_usd`: one value per upstream call.
 * - `error_rate` is derived per period: Sum(errors) / Sum(calls); missing when there were no calls.
 */
export const BASE_METRICS = ['calls', 'errors', 'timeouts', 'refusals', 'latency_ms', 'input_tokens', 'output_tokens', 'cost_usd'] as const;

export type BaseMetric = (typeof BASE_METRICS)[number];
export type MetricName = BaseMetric | 'error_rate' | `refusals:${StopCode}`;

/** Metrics whose per-period datapoints keep a sketch, so pNN statistics can be computed. */
export const DISTRIBUTION_METRICS: ReadonlySet<string> = new Set(['latency_ms', 'input_tokens', 'output_tokens', 'cost_usd']);

export const DERIVED_METRICS: ReadonlySet<string> = new Set(['error_rate']);

const BASE_SET: ReadonlySet<string> = new Set(BASE_METRICS);

export function isMetricName(name: unknown): name is MetricName {
  if (typeof name !== 'string') return false;
  if (BASE_SET.has(name) || DERIVED_METRICS.has(name)) return true;
  return name.startsWith('refusals:') && isStopCode(name.slice('refusals:'.length));
}

/** Scope kinds metrics are kept for. `server` is a tool server; `tool` is `<server>.<tool>`. */
export const SCOPE_KINDS = ['tenant', 'agent', 'model', 'provider', 'server', 'tool'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** `global` or `<kind>:<id>`, e.g. `provider:sim`, `tenant:acme`, `tool:demo.search`. */
export type ScopeKey = string;

export function isScopeKey(value: unknown): value is ScopeKey {
  if (value === 'global') return true;
  if (typeof value !== 'string') return false;
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) return false;
  return (SCOPE_KINDS as readonly string[]).includes(value.slice(0, colon));
}
