import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../metrics/prom-parser.ts';
import { closeAll, startGateway } from './helpers.ts';

afterEach(closeAll);

describe('GET /metrics on a live gateway', () => {
  it('serves Prometheus text that a strict parser accepts, with calls and refusals by code', async () => {
    const gw = await startGateway();
    const client = gw.client({ maxRetries: 0 });
    await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }] });
    await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch(() => {});
    await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: '[sim:fail 1 503] x' }] }).catch(() => {});
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    const families = parsePrometheusText(await res.text());
    const calls = families.get('fmguard_calls_total');
    expect(calls?.type).toBe('counter');
    const ok = calls!.samples.find((s) => s.labels.gen_ai_request_model === 'sim-small' && s.labels.outcome === 'success');
    expect(ok?.value).toBeGreaterThanOrEqual(1);
    const failed = calls!.samples.find((s) => s.labels.outcome === 'error');
    expect(failed?.labels.error_type ?? failed?.labels.gen_ai_provider_name).toBeTruthy();
    expect(families.get('fmguard_operation_duration_seconds')?.type).toBe('histogram');
  });
});
