import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimAbortEvent } from '../../../src/providers/simulated/call-record.ts';
import { startSimServer, type SimServer } from '../../../src/providers/simulated/sim-server.ts';

let server: SimServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof startSimServer>[0] = {}) {
  server = await startSimServer(options);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
  return { server, client };
}

const messages = [{ role: 'user' as const, content: 'Explain token budgets briefly.' }];

describe('sim HTTP server', () => {
  it('answers a plain completion through the official OpenAI client', async () => {
    const { server, client } = await start();
    const res = await client.chat.completions.create({ model: 'sim', messages });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.choices[0].message.content!.length).toBeGreaterThan(50);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    expect(server.sim.stats).toMatchObject({ calls: 1, completed: 1 });
  });

  it('streams SSE with a usage chunk when include_usage is set, the same content as non-streaming', async () => {
    const { client } = await start();
    const plain = await client.chat.completions.create({ model: 'sim', messages });
    const stream = await client.chat.completions.create({ model: 'sim', messages, stream: true, stream_options: { include_usage: true } });
    let content = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      content += chunk.choices[0]?.delta.content ?? '';
    }
    expect(content).toBe(plain.choices[0].message.content);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(plain.usage);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
  });

  it('leaves the usage chunk out when include_usage is not set', async () => {
    const { client } = await start();
    const stream = await client.chat.completions.create({ model: 'sim', messages, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true);
  });

  it('selects scenarios by directive and by the x-sim-scenario header', async () => {
    const { client } = await start();
    const tools = [{ type: 'function' as const, function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];
    const a = await client.chat.completions.create({ model: 'sim', messages: [{ role: 'user', content: 'find it [sim:tool_call]' }], tools });
    expect(a.choices[0].message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'search', arguments: '{"query":"find it"}' } });
    const b = await client.chat.completions.create({ model: 'sim', messages }, { headers: { 'x-sim-scenario': 'forbidden_tool' } });
    expect(b.choices[0].message.tool_calls![0].type === 'function' && b.choices[0].message.tool_calls![0].function.name).toBe('delete_file');
  });

  it('lists models', async () => {
    const { client } = await start({ model: { models: { 'sim-small': 'answer', 'sim-loop': 'tool_loop' } } });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(['sim-small', 'sim-loop']);
  });

  it('returns 429 with retry-after and the OpenAI error shape', async () => {
    const { client } = await start({ model: { retryAfterMs: 2500 } });
    const err = await client.chat.completions
      .create({ model: 'sim', messages, stream: true }, { headers: { 'x-sim-scenario': 'throttle' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    const apiError = err as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers?.get('retry-after')).toBe('3');
    expect(apiError.headers?.get('retry-after-ms')).toBe('2500');
    expect(apiError.error).toMatchObject({ message: 'simulated rate limit', type: 'rate_limit_error', code: 'rate_limit_exceeded' });
  });

  it('returns the ProviderError status for failures', async () => {
    const { client, server } = await start({ model: { scenario: 'fail 1 503' } });
    const err = (await client.chat.completions.create({ model: 'sim', messages }).catch((e: unknown) => e)) as APIError;
    expect(err.status).toBe(503);
    expect(err.code).toBe('service_unavailable');
    expect(server.sim.stats.failures).toBe(1);
  });

  it('answers bad JSON with 400, unknown routes with 404, wrong methods with 405', async () => {
    const { server } = await start();
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: { message: 'request body is not valid JSON', type: 'invalid_request_error', code: 'invalid_request', param: null },
    });
    const invalid = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"sim"}' });
    expect(invalid.status).toBe(400);
    expect((await fetch(`${server.url}/v2/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/chat/completions`)).status).toBe(405);
  });

  it('streams a long output to a slow reader (backpressure) without losing chunks', async () => {
    const { client } = await start({ model: { scenario: 'long 20000', tokensPerChunk: 4 } });
    const stream = await client.chat.completions.create({ model: 'sim', messages, stream: true, stream_options: { include_usage: true } });
    let chars = 0;
    // biome-ignore lint/suspicious/noImplicitAnyLet: typed by control flow from its one assignment below
    let usage;
    let n = 0;
    for await (const chunk of stream) {
      chars += chunk.choices[0]?.delta.content?.length ?? 0;
      usage = chunk.usage ?? usage;
      if (++n % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(chars).toBe(80_000);
    expect(usage?.completion_tokens).toBe(20_000);
  });

  it('keeps connections alive between requests', async () => {
    const { server } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = httpRequest(`${server.url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(req.reusedSocket));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'sim', messages }));
      });
    expect(await post()).toBe(false);
    expect(await post()).toBe(true);
    agent.destroy();
  });

  it('a client aborting a stream closes the socket; the server aborts the generation and records both', async () => {
    const { server, client } = await start({ model: { scenario: 'stall 3' } });
    const closed = once(server.events, 'client-closed');
    const aborted = once(server.sim.events, 'abort') as Promise<[SimAbortEvent]>;
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'sim', messages, stream: true }, { signal: controller.signal });
    let received = 0;
    const reading = (async () => {
      for await (const _ of stream) if (++received === 3) controller.abort();
    })();
    // The SDK ends the iteration quietly on a user abort.
    await reading.catch(() => {});
    expect(received).toBe(3);
    const [[closeEvent], [abortEvent]] = await Promise.all([closed, aborted]);
    expect(closeEvent).toEqual({ requestId: 'chatcmpl-sim-1', stream: true });
    expect(abortEvent).toMatchObject({ requestId: 'chatcmpl-sim-1', phase: 'streaming', chunksSent: 3, stream: true });
    expect(server.stats.clientClosed).toBe(1);
    expect(server.sim.stats).toMatchObject({ aborted: 1, inFlight: 0 });
  });

  it('a client abandoning a non-streaming request also aborts the generation', async () => {
    const { server, client } = await start({ model: { scenario: 'stall' } });
    const aborted = once(server.sim.events, 'abort') as Promise<[SimAbortEvent]>;
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'sim', messages }, { signal: controller.signal });
    await once(server.sim.events, 'call');
    controller.abort();
    await expect(pending).rejects.toThrow();
    const [event] = await aborted;
    expect(event).toMatchObject({ requestId: 'chatcmpl-sim-1', stream: false, phase: 'before_first_token' });
    expect(server.stats.clientClosed).toBe(1);
  });

  it('close() aborts requests still in flight', async () => {
    const { server, client } = await start({ model: { scenario: 'stall_first' } });
    const stream = await client.chat.completions.create({ model: 'sim', messages, stream: true });
    const reading = (async () => {
      for await (const _ of stream);
    })();
    reading.catch(() => {});
    await server.close();
    await expect(reading).rejects.toThrow();
    expect(server.sim.stats).toMatchObject({ aborted: 1, inFlight: 0 });
    expect(server.stats.clientClosed).toBe(0);
  });
});
