import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../metrics/prom-parser.ts';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';

afterEach(closeAll);

/** The call's failure, which must be an API error (a network failure or a success fails the test). */
async function failure(call: Promise<unknown>): Promise<APIError> {
  const error = await call.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  if (!(error instanceof APIError)) throw error;
  return error;
}

describe('GET /metrics on a live gateway', () => {
  it('serves Prometheus text that a strict parser accepts, with calls and refusals by code', async () => {
    const gw = await startGateway({ config: gatewayConfig({ allow: { models: ['sim-small'], tools: ['*'] } }) });
    const client = gw.client({ maxRetries: 0 });
    await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }] });
    const denied = await failure(client.chat.completions.create({ model: 'sim-pricey', messages: [{ role: 'user', content: 'x' }] }));
    expect([denied.status, denied.code]).toEqual([403, 'policy.denied']);
    const upstream = await failure(client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: '[sim:fail 1 503] x' }] }));
    expect([upstream.status, upstream.code]).toEqual([502, 'upstream.error']);

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    const families = parsePrometheusText(await res.text());
    const calls = families.get('fmguard_calls_total');
    expect(calls?.type).toBe('counter');
    const sum = (samples: Array<{ value: number }>) => samples.reduce((total, s) => total + s.value, 0);
    const small = calls!.samples.filter((s) => s.labels.gen_ai_request_model === 'sim-small');
    expect(sum(small.filter((s) => s.labels.outcome === 'success'))).toBe(1);
    expect(sum(small.filter((s) => s.labels.outcome === 'error' && s.labels.error_type === 'upstream.error'))).toBe(1);
    const refusals = families.get('fmguard_refusals_total');
    expect(refusals?.type).toBe('counter');
    const byCode = refusals!.samples.filter((s) => s.labels.code === 'policy.denied' && s.labels.gen_ai_request_model === 'sim-pricey');
    expect(sum(byCode)).toBe(1);
    expect(sum(refusals!.samples)).toBe(1);
    expect(families.get('fmguard_operation_duration_seconds')?.type).toBe('histogram');
    // The policy engine's own counters: every decision it made, by path, and the policies evaluated.
    const stats = gw.guard.policy!.stats();
    const decisions = families.get('fmguard_policy_decisions_total');
    expect(decisions?.type).toBe('counter');
    expect(sum(decisions!.samples)).toBe(stats.decisions);
    expect(stats.decisions).toBeGreaterThanOrEqual(3);
    expect(decisions!.samples.find((s) => s.labels.path === 'fixed')?.value).toBe(stats.fixed);
    expect(families.get('fmguard_policy_policies_evaluated_total')?.samples[0]?.value).toBe(stats.policiesEvaluated);
    expect(families.get('fmguard_policy_targets_prepared_total')?.samples[0]?.value).toBe(stats.prepared);
  });
});
