/**
 * Contention is not exhaustion, over HTTP with the official `openai` client. A run whose cost limit
 * is held by a call in flight (settled spend leaves room) gets `limit.contended`: 429, retry-after,
 * x-should-retry true, so the client retries, and is served once the other call settles. A run
 * whose settled spend leaves no room gets `limit.cost`: terminal, the client does not retry.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCountingUpstream, type CountingUpstream } from '../replicas/counting-upstream.ts';
import { BOT_KEY, closeAll, gatewayConfig, startGateway } from './helpers.ts';

let upstream: CountingUpstream;
beforeAll(async () => {
  upstream = await startCountingUpstream({ holdMs: 400 });
});
afterAll(() => upstream.close());
afterEach(closeAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** $100 / $400 per million tokens: the upstream's answers (5 in, 2 out) cost $0.0013 each. */
function config(maxCostUsd: number) {
  const base = gatewayConfig({ limits: { maxCostUsd } }, { defaults: { retry: [] } } as never);
  return {
    ...base,
    providers: { ...base.providers, up: { kind: 'openai' as const, baseUrl: upstream.baseUrl, apiKey: 'k' } },
    models: { ...base.models, up: { provider: 'up', inputPerMTok: 100, outputPerMTok: 400 } },
  };
}
const ask = (text: string) => ({ model: 'up', messages: [{ role: 'user' as const, content: text }] });

describe('contention is not exhaustion (openai client)', () => {
  it('contended: 429 limit.contended with retry-after; the client retries and is served once the holder settles', async () => {
    const gw = await startGateway({ config: config(0.5) });
    upstream.hold(1500);
    const run = { 'x-fmguard-run': `contended-${Date.now()}` };
    // No max_tokens: this call's worst case is clamped to all the run has left, and held while in flight.
    const holder = gw.post(ask('hold the budget'), run);
    const until = Date.now() + 5000;
    while (upstream.inFlight() < 1 && Date.now() < until) await sleep(5);
    const usage = await gw.guard.ctx.store.ledger.balances([{ key: `run:${run['x-fmguard-run']}@bot`, dim: 'cost' }], Date.now());
    expect(usage[0]!.used).toBe(0);
    expect(usage[0]!.reserved).toBeGreaterThan(0.49e9);

    // What the client sees on its first attempt.
    const raw = await gw.post(ask('while held'), run);
    expect(raw.status).toBe(429);
    expect(raw.headers.get('x-fmguard-code')).toBe('limit.contended');
    expect(raw.headers.get('x-should-retry')).toBe('true');
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await raw.json()).error.fmguard).toMatchObject({ limitCode: 'limit.cost', limit: 0.5, settled: 0 });

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY, maxRetries: 3, defaultHeaders: run });
    const before = gw.requests();
    const answer = await client.chat.completions.create(ask('the client retries'));
    const attempts = gw.requests() - before;
    expect(answer.choices[0]!.message.content).toBe('ok');
    expect((await holder).status).toBe(200);
    // Refused while the holder was in flight, then served after it settled.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
    upstream.hold(400);
  });

  it('exhausted: settled spend leaves no room, so limit.cost (402, x-should-retry false) and the client does not retry', async () => {
    const gw = await startGateway({ config: config(0.003) });
    upstream.hold(10);
    const run = { 'x-fmguard-run': `exhausted-${Date.now()}` };
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY, maxRetries: 3, defaultHeaders: run });
    await client.chat.completions.create(ask('spend it')); // settles $0.0013 of $0.003; the next needs at least $0.0028
    const before = gw.requests();
    const error = await client.chat.completions.create(ask('one more')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(402);
    expect((error as APIError).code).toBe('limit.cost');
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    expect(gw.requests() - before).toBe(1);
    upstream.hold(400);
  });
});
