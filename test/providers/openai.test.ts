import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest } from '../../src/core/chat.ts';
import { createOpenAIProvider, type HttpModelProvider } from '../../src/providers/openai/openai.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import { startSimServer, type SimServer } from '../../src/providers/simulated/sim-server.ts';
import { closedPort, collect, signal, sse, startFakeServer, startSse, tick, type FakeServer } from './helpers.ts';

const API_KEY = 'sk-test-secret-key-123456';
let sim: SimServer | undefined;
let fake: FakeServer | undefined;
let provider: HttpModelProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await sim?.close();
  await fake?.close();
  provider = sim = fake = undefined;
});

async function simProvider(options: Parameters<typeof startSimServer>[0] = {}) {
  sim = await startSimServer(options);
  provider = createOpenAIProvider({ name: 'sim-http', baseUrl: `${sim.url}/v1`, apiKey: API_KEY });
  return { sim, provider };
}

async function fakeProvider(handler: Parameters<typeof startFakeServer>[0], headers?: Record<string, string>) {
  fake = await startFakeServer(handler);
  provider = createOpenAIProvider({ name: 'fake', baseUrl: `${fake.url}/v1/`, apiKey: API_KEY, headers });
  return { fake, provider };
}

const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'sim', messages: [{ role: 'user', content: text }], ...extra });

function contentOf(chunks: ChatChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('OpenAI provider against the sim server', () => {
  it('completes with usage', async () => {
    const { provider } = await simProvider();
    const res = await provider.complete(ask('Explain budgets.'), { signal: signal() });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.choices[0].message.content!.length).toBeGreaterThan(20);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('streams the same content with a final usage chunk, asking for usage itself', async () => {
    const { provider } = await simProvider();
    const plain = await provider.complete(ask('Explain budgets.'), { signal: signal() });
    // No stream_options in the request: the provider adds include_usage.
    const chunks = await collect(provider.stream(ask('Explain budgets.'), { signal: signal() }));
    expect(contentOf(chunks)).toBe(plain.choices[0].message.content);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual(plain.usage);
  });

  it('streams tool calls', async () => {
    const { provider } = await simProvider();
    const tools = [{ type: 'function' as const, function: { name: 'search', parameters: { type: 'object' } } }];
    const chunks = await collect(provider.stream(ask('find it [sim:tool_call]', { tools }), { signal: signal() }));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'search' } });
    expect(calls.map((c) => c.function?.arguments ?? '').join('')).toBe('{"query":"find it"}');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
  });

  it('maps a 429 to a ProviderError with status and retry-after, plain and streamed', async () => {
    const { provider } = await simProvider({ model: { retryAfterMs: 2500 } });
    for (const call of [
      () => provider.complete(ask('hi [sim:throttle]'), { signal: signal() }),
      () => collect(provider.stream(ask('hi [sim:throttle]'), { signal: signal() })),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ status: 429, retryAfterMs: 2500 });
      expect((error as Error).message).toMatch(/rate_limit_exceeded/);
    }
  });

  it('maps an upstream failure to its status, scenario chosen by header', async () => {
    const { provider: base, sim } = await simProvider();
    await base.close();
    provider = createOpenAIProvider({ name: 'sim-http', baseUrl: `${sim.url}/v1`, headers: { 'x-sim-scenario': 'fail 1 503' } });
    const error = await rejection(provider.complete(ask('hi'), { signal: signal() }));
    expect(error).toMatchObject({ name: 'ProviderError', status: 503, retryAfterMs: undefined });
  });

  it('aborting mid-stream rejects with the reason and the sim sees its client close', async () => {
    const { provider, sim } = await simProvider();
    const controller = new AbortController();
    const iterator = provider.stream(ask('go [sim:stall 3]'), { signal: controller.signal })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await iterator.next()).done).toBe(false);
    const closed = once(sim.events, 'client-closed');
    const pending = iterator.next();
    const reason = new Error('killed');
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    const [event] = await closed;
    expect(event.stream).toBe(true);
    expect(sim.stats.clientClosed).toBe(1);
    expect(sim.sim.stats.aborted).toBe(1);
  });

  it('aborting before headers (a stalled non-streamed call) closes the upstream socket', async () => {
    const { provider, sim } = await simProvider();
    const controller = new AbortController();
    const pending = provider.complete(ask('go [sim:stall_first]'), { signal: controller.signal });
    await tick(30);
    const closed = once(sim.events, 'client-closed');
    controller.abort(new Error('timeout'));
    expect(await rejection(pending)).toMatchObject({ message: 'timeout' });
    await closed;
    expect(sim.stats.clientClosed).toBe(1);
  });

  it('aborting a stream before its headers closes the upstream socket', async () => {
    const { provider, sim } = await simProvider({ model: { models: { slow: { scenario: 'fail', firstTokenLatencyMs: 60_000 } } } });
    const controller = new AbortController();
    const iterator = provider.stream(ask('hi', { model: 'slow' }), { signal: controller.signal })[Symbol.asyncIterator]();
    const pending = iterator.next();
    await tick(30);
    const closed = once(sim.events, 'client-closed');
    controller.abort(new Error('first token timeout'));
    expect(await rejection(pending)).toMatchObject({ message: 'first token timeout' });
    await closed;
  });

  it('an already aborted signal sends nothing', async () => {
    const { provider, sim } = await simProvider();
    const reason = new Error('already');
    const error = await rejection(provider.complete(ask('hi'), { signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    expect(await rejection(collect(provider.stream(ask('hi'), { signal: AbortSignal.abort(reason) })))).toBe(reason);
    expect(sim.stats.requests).toBe(0);
  });

  it('a consumer that stops reading closes the upstream socket', async () => {
    const { provider, sim } = await simProvider({ model: { tokensPerSecond: 200 } });
    const closed = once(sim.events, 'client-closed');
    for await (const chunk of provider.stream(ask('go [sim:long 500]'), { signal: signal() })) {
      if (chunk.choices[0]?.delta.content) break;
    }
    await closed;
    expect(sim.stats.clientClosed).toBe(1);
  });

  it('a closed port is a ProviderError 502 without the key in it', async () => {
    const port = await closedPort();
    provider = createOpenAIProvider({ name: 'nowhere', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY });
    for (const call of [() => provider!.complete(ask('hi'), { signal: signal() }), () => collect(provider!.stream(ask('hi'), { signal: signal() }))]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).status).toBe(502);
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
      expect((error as Error).message).not.toContain(API_KEY);
    }
  });

  it('works over an injected dispatcher', async () => {
    sim = await startSimServer();
    const agent = new Agent();
    provider = createOpenAIProvider({ name: 'sim-http', baseUrl: `${sim.url}/v1`, dispatcher: agent });
    const res = await provider.complete(ask('hi'), { signal: signal() });
    expect(res.choices[0].finish_reason).toBe('stop');
    await provider.close();
    expect(agent.closed).toBe(false);
    await agent.close();
  });
});

const chunk = (content: string): ChatChunk => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});
const completion = {
  id: 'r1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

describe('OpenAI provider against a hand-written upstream', () => {
  it('sends the auth header, custom headers and the request to <baseUrl>/chat/completions', async () => {
    const { fake, provider } = await fakeProvider(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completion));
      },
      { 'openai-organization': 'org-1' },
    );
    await provider.complete(ask('hi', { stream: true, stream_options: { include_usage: true } }), { signal: signal() });
    const seen = fake.requests[0];
    expect(seen).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(seen.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'openai-organization': 'org-1', 'content-type': 'application/json' });
    // complete() never asks for a stream.
    expect(seen.body).toEqual({ model: 'sim', messages: [{ role: 'user', content: 'hi' }], stream: false });
  });

  it('keeps a query string in the base URL (Azure-style api-version)', async () => {
    fake = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
    });
    provider = createOpenAIProvider({
      name: 'azure',
      baseUrl: `${fake.url}/openai/deployments/d1?api-version=2024-10-21`,
      headers: { 'api-key': 'azure-key-123456' },
    });
    await provider.complete(ask('hi'), { signal: signal() });
    expect(fake.requests[0].path).toBe('/openai/deployments/d1/chat/completions?api-version=2024-10-21');
    expect(fake.requests[0].headers['api-key']).toBe('azure-key-123456');
    expect(fake.requests[0].headers.authorization).toBeUndefined();
  });

  it('reuses keep-alive connections for sequential calls, plain and streamed', async () => {
    const { fake, provider } = await fakeProvider((req, res) => {
      if ((req.body as ChatRequest).stream) {
        startSse(res);
        sse(res, chunk('a'));
        res.end('data: [DONE]\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completion));
      }
    });
    for (let i = 0; i < 10; i++) {
      await provider.complete(ask('hi'), { signal: signal() });
      expect(contentOf(await collect(provider.stream(ask('hi'), { signal: signal() })))).toBe('a');
    }
    expect(fake.requests).toHaveLength(20);
    // undici frees a socket one event-loop turn after its response, so a call made at once may open a
    // second one; after that the two are reused and none is closed.
    expect(fake.connections).toBeLessThanOrEqual(2);
    expect(fake.socketsClosed).toBe(0);
  });

  it('destroys (does not pool) a connection whose stream was aborted mid-body', async () => {
    let streamSocket: Socket | undefined;
    const { fake, provider } = await fakeProvider(async (req, res) => {
      if ((req.body as ChatRequest).stream) {
        streamSocket = res.socket ?? undefined;
        startSse(res);
        sse(res, chunk('a'));
        return; // never ends
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
    });
    await provider.complete(ask('warm up'), { signal: signal() });
    const controller = new AbortController();
    const iterator = provider.stream(ask('hi'), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ choices: [{ delta: { content: 'a' } }] });
    const closed = fake.nextClientClose();
    controller.abort(new Error('kill'));
    await expect(iterator.next()).rejects.toThrow('kill');
    await closed;
    await tick(20);
    expect(streamSocket!.destroyed).toBe(true);
    expect(fake.socketsClosed).toBe(1);
    // Later calls never land on the dead socket: they all succeed, and only that one socket closed.
    for (let i = 0; i < 5; i++) await provider.complete(ask('again'), { signal: signal() });
    expect(fake.socketsClosed).toBe(1);
  });

  it('aborting mid-body of a plain response closes the socket', async () => {
    const { fake, provider } = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":"r1",');
    });
    const controller = new AbortController();
    const pending = provider.complete(ask('hi'), { signal: controller.signal });
    await tick(30);
    const closed = fake.nextClientClose();
    controller.abort(new Error('total timeout'));
    await expect(pending).rejects.toThrow('total timeout');
    await closed;
  });

  it('parses events split anywhere across network chunks, including inside a UTF-8 character', async () => {
    const text = 'héllo wörld — ✓ 日本';
    const payload = `data: ${JSON.stringify(chunk(text))}\r\n\r\n: keep-alive comment\n\ndata: ${JSON.stringify(chunk('!'))}\n\ndata: [DONE]\n\n`;
    const bytes = Buffer.from(payload, 'utf8');
    const { provider } = await fakeProvider(async (_req, res) => {
      startSse(res);
      // Cut every 7 bytes, which lands inside multi-byte characters and the "data:" prefixes.
      for (let i = 0; i < bytes.length; i += 7) {
        res.write(bytes.subarray(i, i + 7));
        await tick(1);
      }
      res.end();
    });
    const chunks = await collect(provider.stream(ask('hi'), { signal: signal() }));
    expect(contentOf(chunks)).toBe(`${text}!`);
  });

  it('an error event mid-stream is a ProviderError and closes the stream', async () => {
    const { provider } = await fakeProvider(async (_req, res) => {
      startSse(res);
      sse(res, chunk('partial '));
      await tick(5);
      sse(res, { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } });
      res.end();
    });
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const c of provider.stream(ask('hi'), { signal: signal() })) seen.push(c.choices[0]?.delta.content ?? '');
      })(),
    );
    expect(seen).toEqual(['partial ']);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 500, message: 'The server had an error while processing your request. (server_error)' });
  });

  it('reads retry-after as an HTTP date and as seconds, and prefers retry-after-ms', async () => {
    const cases: Array<[Record<string, string>, number | undefined]> = [
      [{ 'retry-after': '7' }, 7000],
      [{ 'retry-after': '0.5' }, 500],
      [{ 'retry-after': '3', 'retry-after-ms': '1234.5' }, 1235],
      [{ 'retry-after': new Date(Date.now() + 20_000).toUTCString() }, 20_000],
      [{ 'retry-after': 'soon' }, undefined],
      [{}, undefined],
    ];
    let headers: Record<string, string> = {};
    await fakeProvider((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }));
    });
    for (const [h, expected] of cases) {
      headers = h;
      const error = (await rejection(provider!.complete(ask('hi'), { signal: signal() }))) as ProviderError;
      expect(error.status).toBe(503);
      if (expected !== undefined && h['retry-after']?.includes('GMT')) {
        // An HTTP date has whole seconds: allow for the truncation and the time the call took.
        expect(error.retryAfterMs).toBeGreaterThan(expected - 2000);
        expect(error.retryAfterMs).toBeLessThanOrEqual(expected);
      } else {
        expect(error.retryAfterMs).toBe(expected);
      }
    }
  });

  it('keeps secrets out of upstream error messages and reads non-JSON error bodies', async () => {
    let body = '';
    const { provider } = await fakeProvider(
      (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(body);
      },
      { 'x-proxy-auth': 'proxy-secret-value' },
    );
    body = JSON.stringify({ error: { message: `Incorrect API key provided: ${API_KEY}, proxy proxy-secret-value`, code: 'invalid_api_key' } });
    const a = (await rejection(provider.complete(ask('hi'), { signal: signal() }))) as ProviderError;
    expect(a.status).toBe(401);
    expect(a.message).toBe('Incorrect API key provided: [redacted], proxy [redacted] (invalid_api_key)');
    body = '<html>Bad gateway</html>';
    const b = (await rejection(provider.complete(ask('hi'), { signal: signal() }))) as ProviderError;
    expect(b.message).toBe('<html>Bad gateway</html>');
    body = JSON.stringify({ error: 'model "x" not found' });
    const c = (await rejection(provider.complete(ask('hi'), { signal: signal() }))) as ProviderError;
    expect(c.message).toBe('model "x" not found');
  });

  it('rejects invalid JSON and a non-SSE answer to a streaming request with 502', async () => {
    let mode = 'garbage';
    const { provider } = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(mode === 'garbage' ? '{"id":' : JSON.stringify({ error: { message: 'quota', code: 'insufficient_quota' } }));
    });
    expect(await rejection(provider.complete(ask('hi'), { signal: signal() }))).toMatchObject({ status: 502, message: 'fake: the upstream sent invalid JSON' });
    expect(await rejection(collect(provider.stream(ask('hi'), { signal: signal() })))).toMatchObject({ status: 502 });
    mode = 'error';
    expect(await rejection(collect(provider.stream(ask('hi'), { signal: signal() })))).toMatchObject({ message: 'quota (insufficient_quota)' });
  });

  it('a connection reset mid-stream is a ProviderError 502', async () => {
    const { provider } = await fakeProvider(async (_req, res) => {
      startSse(res);
      sse(res, chunk('a'));
      await tick(10);
      res.socket?.destroy();
    });
    const error = await rejection(collect(provider.stream(ask('hi'), { signal: signal() })));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).status).toBe(502);
  });
});
