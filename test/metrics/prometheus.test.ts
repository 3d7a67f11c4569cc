import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/recorder.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { parsePrometheusText } from './prom-parser.ts';
import { createMemoryMetricStore } from '../../src/backends/memory/metrics.ts';

function sample(families: ReturnType<typeof parsePrometheusText>, name: string, labels: Record<string, string>) {
  const family = [...families.values()].find((f) => f.samples.some((s) => s.name === name));
  return family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('Prometheus exposition', () => {
  it('parses with a strict text-format parser and carries the recorded numbers', async () => {
    const metrics = createMetrics({ clock: new FakeClock(), store: createMemoryMetricStore() });
    const model = { tenant: 'acme', agent: 'support-bot', model: 'sim-small', provider: 'sim' };
    metrics.record({ ...model, outcome: 'success', latencyMs: 30, inputTokens: 100, outputTokens: 40, costUsd: 0.002 });
    metrics.record({ ...model, outcome: 'success', latencyMs: 300, inputTokens: 50, outputTokens: 10, costUsd: 0.001 });
    metrics.record({ ...model, outcome: 'error', code: 'upstream.error', latencyMs: 5_000 });
    metrics.record({ ...model, outcome: 'refused', code: 'breaker.open' });
    metrics.record({ tenant: 'acme', agent: 'support-bot', tool: 'demo.search', server: 'demo', outcome: 'timeout', code: 'timeout.tool', latencyMs: 10_000 });
    // Label values that need escaping.
    metrics.record({ tenant: 'we"ird\\ten\nant', model: 'm', provider: 'p', outcome: 'success', latencyMs: 1 });

    const text = await metrics.prometheusText();
    const families = parsePrometheusText(text);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(Object.fromEntries([...families.values()].map((f) => [f.name, f.type]))).toEqual({
      fmguard_calls_total: 'counter',
      fmguard_refusals_total: 'counter',
      fmguard_tokens_total: 'counter',
      fmguard_cost_usd_total: 'counter',
      fmguard_operation_duration_seconds: 'histogram',
    });

    const chat = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'sim',
      gen_ai_request_model: 'sim-small',
      fmguard_tenant: 'acme',
      fmguard_agent: 'support-bot',
    };
    expect(sample(families, 'fmguard_calls_total', { ...chat, outcome: 'success', error_type: '' })).toBe(2);
    expect(sample(families, 'fmguard_calls_total', { ...chat, outcome: 'error', error_type: 'upstream.error' })).toBe(1);
    expect(
      sample(families, 'fmguard_calls_total', {
        gen_ai_operation_name: 'execute_tool',
        gen_ai_tool_name: 'demo.search',
        outcome: 'timeout',
        error_type: 'timeout.tool',
      }),
    ).toBe(1);
    expect(sample(families, 'fmguard_refusals_total', { ...chat, code: 'breaker.open' })).toBe(1);
    expect(sample(families, 'fmguard_tokens_total', { gen_ai_request_model: 'sim-small', gen_ai_token_type: 'input' })).toBe(150);
    expect(sample(families, 'fmguard_tokens_total', { gen_ai_request_model: 'sim-small', gen_ai_token_type: 'output' })).toBe(50);
    expect(sample(families, 'fmguard_cost_usd_total', chat)).toBeCloseTo(0.003, 12);
    const hist = { gen_ai_operation_name: 'chat', gen_ai_request_model: 'sim-small', outcome: 'success' };
    expect(sample(families, 'fmguard_operation_duration_seconds_bucket', { ...hist, le: '0.04' })).toBe(1);
    expect(sample(families, 'fmguard_operation_duration_seconds_bucket', { ...hist, le: '0.32' })).toBe(2);
    expect(sample(families, 'fmguard_operation_duration_seconds_count', hist)).toBe(2);
    expect(sample(families, 'fmguard_operation_duration_seconds_sum', hist)).toBeCloseTo(0.33, 12);
    expect(sample(families, 'fmguard_calls_total', { fmguard_tenant: 'we"ird\\ten\nant' })).toBe(1);
    // Durations never carry tenant or agent (bounded series count).
    expect(families.get('fmguard_operation_duration_seconds')!.samples.every((s) => !('fmguard_tenant' in s.labels))).toBe(true);

    // Counters keep counting across scrapes.
    metrics.record({ ...model, outcome: 'success', latencyMs: 10 });
    const again = parsePrometheusText(await metrics.prometheusText());
    expect(sample(again, 'fmguard_calls_total', { ...chat, outcome: 'success' })).toBe(3);
    expect(sample(again, 'fmguard_operation_duration_seconds_count', hist)).toBe(3);
  });

  it('uses a private registry, never the global one; two instances do not clash', async () => {
    const a = createMetrics({ clock: new FakeClock(), store: createMemoryMetricStore() });
    const b = createMetrics({ clock: new FakeClock(), store: createMemoryMetricStore() });
    a.record({ model: 'x', provider: 'p', outcome: 'success' });
    expect(a.registry).not.toBe(b.registry);
    expect(register.getSingleMetric('fmguard_calls_total')).toBeUndefined();
    expect(parsePrometheusText(await b.prometheusText()).get('fmguard_calls_total')!.samples).toEqual([]);
  });

  it('the parser is strict (it rejects broken expositions)', () => {
    expect(() => parsePrometheusText('x_total 1\n')).toThrow(/before its TYPE/);
    expect(() => parsePrometheusText('# TYPE x_total counter\nx_total{a="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('# TYPE x counter\nx 1\n')).toThrow(/_total/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE x_total counter\nx_total 1')).toThrow(/newline/);
    expect(() => parsePrometheusText('# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2\n')).toThrow(/duplicate/);
  });
});
