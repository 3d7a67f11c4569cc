import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSimModel } from '../../src/index.ts';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';
import { anthropic } from './inbound-helpers.ts';

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

/** A primary whose upstream always fails (503) and a catcher to the backup, on a real gateway. */
async function caughtGateway() {
  const config = gatewayConfig({}, {
    providers: { sim: { kind: 'simulated' }, flaky: { kind: 'simulated' } },
    models: {
      primary: { provider: 'flaky', inputPerMTok: 0.15, outputPerMTok: 0.6, catch: [{ errorEquals: ['upstream.error'], next: 'backup' }] },
      backup: { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2 },
    },
  } as never);
  return startGateway({ config, guard: { providers: { sim: createSimModel(), flaky: createSimModel({ scenario: 'fail 1 503' }) } } });
}

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('x-fmguard-served-by on every model route (official openai and @anthropic-ai/sdk clients)', () => {
  it('chat completions, streamed: the header names the backup (a fallback is chosen before the first chunk, so before the headers)', async () => {
    const gw = await caughtGateway();
    const { data: stream, response } = await gw
      .client({ maxRetries: 0 })
      .chat.completions.create({ model: 'primary', messages: hello, stream: true })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fmguard-served-by')).toBe('backup');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBeTruthy();
  });

  it('/v1/responses, plain and streamed', async () => {
    const gw = await caughtGateway();
    const client = gw.client({ maxRetries: 0 });
    const plain = await client.responses.create({ model: 'primary', input: 'hello' }).withResponse();
    expect(plain.response.headers.get('x-fmguard-served-by')).toBe('backup');
    expect(plain.data.output_text).toBeTruthy();
    const streamed = await client.responses.create({ model: 'primary', input: 'hello', stream: true }).withResponse();
    expect(streamed.response.headers.get('x-fmguard-served-by')).toBe('backup');
    const types: string[] = [];
    for await (const event of streamed.data) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
  });

  it('/v1/messages, plain and streamed', async () => {
    const gw = await caughtGateway();
    const client = anthropic(gw);
    const plain = await client.messages.create({ model: 'primary', max_tokens: 200, messages: hello }).withResponse();
    expect(plain.response.headers.get('x-fmguard-served-by')).toBe('backup');
    expect(plain.data.content[0]).toMatchObject({ type: 'text' });
    const streamed = await client.messages.create({ model: 'primary', max_tokens: 200, messages: hello, stream: true }).withResponse();
    expect(streamed.response.headers.get('x-fmguard-served-by')).toBe('backup');
    const types: string[] = [];
    for await (const event of streamed.data) types.push(event.type);
    expect(types.at(-1)).toBe('message_stop');
  });

  it('/v1/embeddings: a breaker fallback serves (embeddings have no catchers), the header says so', async () => {
    const config = gatewayConfig({}, {
      models: {
        embed: { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0, fallbacks: ['embed-2'] },
        'embed-2': { provider: 'sim', inputPerMTok: 0.05, outputPerMTok: 0 },
      },
    } as never);
    const gw = await startGateway({ config });
    const client = gw.client({ maxRetries: 0 });
    expect((await client.embeddings.create({ model: 'embed', input: 'refunds' }).withResponse()).response.headers.get('x-fmguard-served-by')).toBeNull();
    await gw.guard.breakers.open('model:embed', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    const { data, response } = await client.embeddings.create({ model: 'embed', input: 'refunds' }).withResponse();
    expect(data.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(response.headers.get('x-fmguard-served-by')).toBe('embed-2');
  });

  it('a call the model asked for serves: no x-fmguard-served-by on any route', async () => {
    const gw = await caughtGateway();
    const client = gw.client({ maxRetries: 0 });
    const responses = [
      (await client.chat.completions.create({ model: 'backup', messages: hello }).withResponse()).response,
      (await client.chat.completions.create({ model: 'backup', messages: hello, stream: true }).withResponse()).response,
      (await client.responses.create({ model: 'backup', input: 'hello', stream: true }).withResponse()).response,
      (await anthropic(gw).messages.create({ model: 'backup', max_tokens: 200, messages: hello, stream: true }).withResponse()).response,
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.get('x-fmguard-served-by')).toBeNull();
    }
  });
});
