/**
 * Reserved concurrency (`maxConcurrentCalls`, Lambda's reserved concurrency) through the gateway on a
 * real HTTP upstream that counts what reaches it: N calls in flight at once, the rest refused with
 * the retryable `limit.concurrency`, 0 = throttled, and the slot given back on every way a call ends.
 */
import OpenAI, { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCountingUpstream, type CountingUpstream } from '../replicas/counting-upstream.ts';
import { closeAll, gatewayConfig, startGateway, type TestGateway } from './helpers.ts';

let upstream: CountingUpstream;
beforeAll(async () => {
  upstream = await startCountingUpstream({ holdMs: 100 });
});
afterAll(() => upstream.close());
afterEach(async () => {
  upstream.failWith(undefined);
  upstream.hold(100);
  upstream.release();
  await closeAll();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(bot: Record<string, unknown>, tenant: Record<string, unknown> = {}) {
  const base = gatewayConfig(bot, { defaults: { retry: [] } } as never);
  return {
    ...base,
    providers: { ...base.providers, up: { kind: 'openai' as const, baseUrl: upstream.baseUrl, apiKey: 'k' } },
    models: { ...base.models, up: { provider: 'up', inputPerMTok: 0, outputPerMTok: 0 } },
    tenants: { acme: tenant },
  };
}

const ask = (text = 'hi') => ({ model: 'up', messages: [{ role: 'user' as const, content: text }] });

async function slots(gw: TestGateway, scope: string) {
  const [b] = await gw.guard.ctx.store.ledger.balances([{ key: `concurrency:${scope}`, dim: 'in_flight' }], Date.now());
  return b!;
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(10);
  }
}

describe('maxConcurrentCalls over HTTP', () => {
  it('N = 2: 10 parallel calls, never more than 2 at the upstream; the rest get a retryable 429 limit.concurrency', async () => {
    const gw = await startGateway({ config: config({ maxConcurrentCalls: 2 }) });
    const before = upstream.requests();
    const replies = await Promise.all(Array.from({ length: 10 }, () => gw.post(ask())));
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(2 + 8); // what finished early may free a slot for a later one
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(2);
    expect(upstream.requests() - before).toBe(ok.length);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.headers.get('x-fmguard-code')).toBe('limit.concurrency');
      expect(r.headers.get('x-should-retry')).toBe('true');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = await r.json();
      expect(body.error.fmguard).toMatchObject({ limit: 2, scope: 'agent:bot' });
    }
    expect(await slots(gw, 'agent:bot')).toEqual({ used: 0, reserved: 0 });
  });

  it('the official client retries limit.concurrency until a slot is free', async () => {
    const gw = await startGateway({ config: config({ maxConcurrentCalls: 1 }) });
    upstream.hold(300);
    const first = gw.post(ask());
    await until(() => upstream.inFlight() === 1);
    const before = gw.requests();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test-bot-0001', maxRetries: 3 });
    const answer = await client.chat.completions.create(ask());
    expect(answer.choices[0]!.message.content).toBe('ok');
    expect(gw.requests() - before).toBeGreaterThanOrEqual(2); // refused while the first held the slot, then served
    expect((await first).status).toBe(200);
    expect(upstream.maxInFlight()).toBeLessThanOrEqual(2);
  });

  it('a tenant cap counts the calls of all its agents', async () => {
    const gw = await startGateway({ config: config({}, { maxConcurrentCalls: 1 }) });
    upstream.hold(Number.POSITIVE_INFINITY);
    const first = gw.post(ask());
    await until(() => upstream.inFlight() === 1);
    const other = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-other-0001', 'content-type': 'application/json' },
      body: JSON.stringify(ask()),
    });
    expect(other.status).toBe(429);
    expect((await other.json()).error.fmguard.scope).toBe('tenant:acme');
    upstream.release();
    expect((await first).status).toBe(200);
    expect(await slots(gw, 'tenant:acme')).toEqual({ used: 0, reserved: 0 });
  });

  it('0 = throttled: every call refused, and the client is told not to retry', async () => {
    const gw = await startGateway({ config: config({ maxConcurrentCalls: 0 }) });
    const before = gw.requests();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test-bot-0001', maxRetries: 2 });
    const error = await client.chat.completions.create(ask()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(429);
    expect((error as APIError).code).toBe('limit.concurrency');
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    expect(gw.requests() - before).toBe(1);
    expect(upstream.requests()).toBeGreaterThanOrEqual(0);
  });

  it('the slot comes back on every exit: success, upstream error, stream cut by the client, kill', async () => {
    const gw = await startGateway({ config: config({ maxConcurrentCalls: 1 }) });
    const free = async () => expect(await slots(gw, 'agent:bot')).toEqual({ used: 0, reserved: 0 });

    expect((await gw.post(ask())).status).toBe(200);
    await free();

    upstream.failWith(500);
    expect((await gw.post(ask())).status).toBe(502);
    upstream.failWith(undefined);
    await free();

    // The client cuts a stream in the middle.
    upstream.hold(Number.POSITIVE_INFINITY);
    const res = await gw.post({ ...ask(), stream: true }, {});
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await until(async () => (await slots(gw, 'agent:bot')).reserved === 0);
    await free();

    // An operator kills the run while its call is in flight.
    const runId = `kill-me-${Date.now()}`;
    const killed = gw.post({ ...ask(), stream: true }, { 'x-fmguard-run': runId });
    await until(() => upstream.inFlight() === 1);
    await gw.guard.kill(`run:${runId}`, 'test');
    const killedRes = await killed;
    await killedRes.text().catch(() => '');
    await until(async () => (await slots(gw, 'agent:bot')).reserved === 0);
    await free();
    upstream.release();

    // And the slot serves the next call.
    upstream.hold(50);
    expect((await gw.post(ask())).status).toBe(200);
    await free();
  });
});
