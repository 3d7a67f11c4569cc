import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSimModel } from '../../src/index.ts';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';

/** Issue 12 item 4 over HTTP: a caught model failure is served by the catcher's `next`, with the official client. */
const dir = mkdtempSync(join(tmpdir(), 'fmguard-gw-catch-'));
afterEach(closeAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Catch through the gateway (official openai client)', () => {
  it('the primary fails (503), the catcher sends the call to the backup: 200, x-fmguard-served-by, and the audit shows both calls', async () => {
    const config = gatewayConfig({}, {
      store: { kind: 'sqlite', path: join(dir, 'state.db') },
      providers: { sim: { kind: 'simulated' }, flaky: { kind: 'simulated' } },
      models: {
        primary: { provider: 'flaky', inputPerMTok: 0.15, outputPerMTok: 0.6, catch: [{ errorEquals: ['upstream.error'], next: 'backup' }] },
        backup: { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2 },
      },
    } as never);
    const gw = await startGateway({ config, guard: { providers: { sim: createSimModel(), flaky: createSimModel({ scenario: 'fail 1 503' }) } } });
    const { data, response } = await gw
      .client({ maxRetries: 0 })
      .chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-fmguard-served-by')).toBe('backup');
    const runId = response.headers.get('x-fmguard-run')!;
    await gw.guard.audit!.flush();
    const events = await gw.guard.audit!.sink.query({ order: 'asc' });
    const calls = events.filter((e) => e.type.startsWith('call.')).map((e) => `${e.type}:${e.resource}${e.code ? `:${e.code}` : ''}`);
    expect(calls).toEqual(['call.failed:primary:upstream.error', 'call.allowed:backup']);
    expect(runId).toBeTruthy();
  });
});
