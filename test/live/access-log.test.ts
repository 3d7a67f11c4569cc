import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openAccessLog } from '../../src/wiring/access-log.ts';
import { BOT_KEY, closeAll, gatewayConfig, startGateway } from '../gateway/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(closeAll);

const PROMPT = 'the secret plan is PINEAPPLE-42';

describe('the access log', { timeout: 60_000 }, () => {
  it('writes one JSON line per request with who, what, status, stop code, latency and cost; never a key or a prompt', async () => {
    const file = join(dir, 'logs', 'access.jsonl');
    const config = gatewayConfig({ limits: { maxSteps: 1 } }, { server: { accessLog: { destination: file } } });
    const gw = await startGateway({ config });

    const ok = await gw.post({ model: 'sim-small', messages: [{ role: 'user', content: PROMPT }] }, { 'x-request-id': 'req-abc.123' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('req-abc.123');
    const runId = ok.headers.get('x-fmguard-run')!;
    const cost = Number(ok.headers.get('x-fmguard-run-cost-usd'));

    // A named run: the first call uses the one step, the second is refused with limit.steps.
    const named = { 'x-fmguard-run': 'run-access-1' };
    expect((await gw.post({ model: 'sim-small', messages: [{ role: 'user', content: PROMPT }] }, named)).status).toBe(200);
    const refused = await gw.post({ model: 'sim-small', messages: [{ role: 'user', content: PROMPT }] }, { ...named, 'x-request-id': 'bad id with spaces' });
    expect(refused.status).toBe(403);
    const minted = refused.headers.get('x-request-id')!;
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);

    const unauth = await gw.post({ model: 'sim-small', messages: [] }, { authorization: 'Bearer sk-wrong-key-9999' });
    expect(unauth.status).toBe(401);
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    await Promise.all([ok.text(), refused.text(), unauth.text(), health.text()]);
    await gw.close();

    const text = readFileSync(file, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(Date.parse(line.time)).not.toBeNaN();
      expect(line.latencyMs).toBeGreaterThanOrEqual(0);
      expect(line.level).toBe(30);
    }
    expect(lines[0]).toMatchObject({
      requestId: 'req-abc.123',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      agent: 'bot',
      tenant: 'acme',
      run: expect.stringContaining(runId),
      model: 'sim-small',
    });
    expect(lines[0].costUsd).toBeCloseTo(cost, 9);
    expect(lines[0].costUsd).toBeGreaterThan(0);
    expect(lines[0].stopCode).toBeUndefined();
    expect(lines[2]).toMatchObject({
      requestId: minted,
      status: 403,
      stopCode: 'limit.steps',
      agent: 'bot',
      run: expect.stringMatching(/^run-access-1(@bot)?$/),
      model: 'sim-small',
    });
    expect(lines[3]).toMatchObject({ status: 401, stopCode: 'auth.invalid', route: '/v1/chat/completions' });
    expect(lines[3].agent).toBeUndefined();
    expect(lines[4]).toMatchObject({ method: 'GET', route: '/healthz', status: 200 });
    // Never a key (the agent's, a wrong one), a prompt or its text.
    for (const secret of [BOT_KEY, 'sk-wrong-key-9999', 'PINEAPPLE', 'messages', 'authorization']) expect(text).not.toContain(secret);
  });

  it('is off unless configured, and `off` or level silent writes nothing; the request id is echoed anyway', async () => {
    const gw = await startGateway({ config: gatewayConfig({}, { server: { accessLog: { destination: 'off' } } }) });
    const res = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'r-1' } });
    expect(res.headers.get('x-request-id')).toBe('r-1');
  });
});

describe('a file access log', () => {
  it('holds every line once closed (close waits for the asynchronous writes, not just for pino to say "flushed")', async () => {
    const file = join(dir, 'closed', 'access.jsonl');
    const log = openAccessLog({ destination: file, level: 'info' })!;
    for (let i = 0; i < 500; i++) log.sink({ time: new Date().toISOString(), requestId: `r-${i}`, method: 'GET', route: '/healthz', status: 200 });
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(JSON.parse(lines[499]!).requestId).toBe('r-499');
    await log.close(); // twice is fine
  });
});
