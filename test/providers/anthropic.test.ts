import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest } from '../../src/core/chat.ts';
import { createAnthropicProvider } from '../../src/providers/anthropic/anthropic.ts';
import type { HttpModelProvider } from '../../src/providers/http.ts';
import { createProvider } from '../../src/wiring/providers.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import { systemClock } from '../../src/core/clock.ts';
import { collect, signal, startFakeServer, startSse, tick, type FakeHandler, type FakeServer } from './helpers.ts';

const API_KEY = 'sk-ant-test-secret-000111';
let fake: FakeServer | undefined;
let provider: HttpModelProvider | undefined;

afterEach(async () => {
  await provider?.close();
  await fake?.close();
  provider = fake = undefined;
});

async function anthropic(handler: FakeHandler, baseSuffix = '') {
  fake = await startFakeServer(handler);
  provider = createAnthropicProvider({ name: 'claude', baseUrl: fake.url + baseSuffix, apiKey: API_KEY });
  return { fake, provider };
}

/** An Anthropic SSE event: `event:` line and data with the same type. */
function event(res: ServerResponse, data: Record<string, unknown>): void {
  res.write(`event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`);
}

const messageStart = (usage: Record<string, number> = { input_tokens: 25, output_tokens: 1 }) => ({
  type: 'message_start',
  message: { id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-test', content: [], stop_reason: null, stop_sequence: null, usage },
});

const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'claude-test', messages: [{ role: 'user', content: text }], ...extra });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function replyJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('Anthropic provider', () => {
  it('round-trips a conversation with tool calls and tool results: the exact request body, and the reply', async () => {
    const { fake, provider } = await anthropic((_req, res) =>
      replyJson(res, 200, {
        id: 'msg_02',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [
          { type: 'text', text: 'Oslo is colder.' },
          { type: 'tool_use', id: 'toolu_3', name: 'notify', input: { to: 'ops', text: 'cold' } },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 200, cache_creation_input_tokens: 10 },
      }),
    );
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
      {
        type: 'function' as const,
        function: { name: 'notify', parameters: { type: 'object', properties: { to: { type: 'string' }, text: { type: 'string' } } } },
      },
    ];
    const request: ChatRequest = {
      model: 'claude-test',
      max_tokens: 300,
      temperature: 0.3,
      stop: ['END'],
      tools,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You compare weather.' },
        { role: 'user', content: 'Which is colder, Oslo or Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '-3C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: '14C' },
      ],
    };
    const res = await provider.complete(request, { signal: signal() });

    const seen = fake.requests[0];
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers).toMatchObject({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body).toEqual({
      model: 'claude-test',
      max_tokens: 300,
      system: 'You compare weather.',
      messages: [
        { role: 'user', content: 'Which is colder, Oslo or Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
            { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '-3C' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: '14C' },
          ],
        },
      ],
      tools: [
        { name: 'weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
        { name: 'notify', input_schema: { type: 'object', properties: { to: { type: 'string' }, text: { type: 'string' } } } },
      ],
      stop_sequences: ['END'],
      temperature: 0.3,
    });

    expect(res.id).toBe('msg_02');
    expect(res.model).toBe('claude-test');
    expect(res.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: 'Oslo is colder.',
        tool_calls: [{ id: 'toolu_3', type: 'function', function: { name: 'notify', arguments: '{"to":"ops","text":"cold"}' } }],
      },
    });
    // input (50) + cache reads (200) + cache writes (10); the reads are the cached part.
    expect(res.usage).toEqual({ prompt_tokens: 260, completion_tokens: 20, total_tokens: 280, prompt_tokens_details: { cached_tokens: 200 } });
  });

  it('streams text with a finish chunk and a final usage chunk', async () => {
    const { fake, provider } = await anthropic(async (_req, res) => {
      startSse(res);
      event(res, messageStart());
      event(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      event(res, { type: 'ping' });
      for (const text of ['Hello', ', ', 'world']) {
        event(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
        await tick(1);
      }
      event(res, { type: 'content_block_stop', index: 0 });
      event(res, { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } });
      event(res, { type: 'message_stop' });
      res.end();
    });
    const chunks = await collect(provider.stream(ask('hi'), { signal: signal() }));
    expect((fake.requests[0].body as { stream?: boolean }).stream).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello, world');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ id: 'msg_01', choices: [], usage: { prompt_tokens: 25, completion_tokens: 3, total_tokens: 28 } });
  });

  it('streams tool_use with input_json_delta pieces cut across network chunks, stable index and id', async () => {
    const { provider } = await anthropic(async (_req, res) => {
      startSse(res);
      const events = [
        messageStart(),
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Searching both.' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_A', name: 'search', input: {} } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query": "bud' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'gets ✓", "limit": ' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '5}' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_B', name: 'search', input: {} } },
        { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"query": "limits"}' } },
        { type: 'content_block_stop', index: 2 },
        { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 61 } },
        { type: 'message_stop' },
      ];
      // Write the whole stream in 11-byte pieces: events, lines and UTF-8 characters all get cut.
      const bytes = Buffer.from(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''), 'utf8');
      for (let i = 0; i < bytes.length; i += 11) {
        res.write(bytes.subarray(i, i + 11));
        if (i % 110 === 0) await tick(1);
      }
      res.end();
    });
    const chunks = await collect(provider.stream(ask('find budgets and limits'), { signal: signal() }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const byIndex = new Map<number, { id?: string; name?: string; args: string }>();
    for (const d of deltas) {
      const entry = byIndex.get(d.index) ?? { args: '' };
      if (d.id) {
        expect(entry.id).toBeUndefined(); // the id comes once, first
        entry.id = d.id;
        entry.name = d.function?.name;
      }
      entry.args += d.function?.arguments ?? '';
      byIndex.set(d.index, entry);
    }
    expect([...byIndex.entries()]).toEqual([
      [0, { id: 'toolu_A', name: 'search', args: '{"query": "budgets ✓", "limit": 5}' }],
      [1, { id: 'toolu_B', name: 'search', args: '{"query": "limits"}' }],
    ]);
    expect(JSON.parse(byIndex.get(0)!.args)).toEqual({ query: 'budgets ✓', limit: 5 });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Searching both.');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 25, completion_tokens: 61, total_tokens: 86 });
  });

  it('an error event mid-stream is a ProviderError after the chunks before it', async () => {
    const { provider } = await anthropic(async (_req, res) => {
      startSse(res);
      event(res, messageStart());
      event(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      event(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Par' } });
      await tick(5);
      event(res, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      res.end();
    });
    const seen: ChatChunk[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of provider.stream(ask('hi'), { signal: signal() })) seen.push(chunk);
      })(),
    );
    expect(seen.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Par']);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 529, message: 'Overloaded (overloaded_error)' });
  });

  it('maps a 429 with retry-after and a 529 overloaded to ProviderErrors', async () => {
    let status = 429;
    const { provider } = await anthropic((_req, res) => {
      if (status === 429) {
        replyJson(
          res,
          429,
          { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } },
          { 'retry-after': '12' },
        );
      } else {
        replyJson(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      }
    });
    const a = await rejection(provider.complete(ask('hi'), { signal: signal() }));
    expect(a).toBeInstanceOf(ProviderError);
    expect(a).toMatchObject({
      status: 429,
      retryAfterMs: 12_000,
      message: 'Number of request tokens has exceeded your per-minute rate limit (rate_limit_error)',
    });
    status = 529;
    const b = await rejection(collect(provider.stream(ask('hi'), { signal: signal() })));
    expect(b).toMatchObject({ status: 529, retryAfterMs: undefined, message: 'Overloaded (overloaded_error)' });
  });

  it('aborting mid-stream rejects with the reason and closes the upstream socket', async () => {
    const { fake, provider } = await anthropic(async (_req, res) => {
      startSse(res);
      event(res, messageStart());
      event(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      event(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'and then' } });
      // …stalls.
    });
    const controller = new AbortController();
    const iterator = provider.stream(ask('hi'), { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.choices[0].delta.role).toBe('assistant');
    expect((await iterator.next()).value?.choices[0].delta.content).toBe('and then');
    const closed = fake.nextClientClose();
    const pending = iterator.next();
    const reason = new Error('idle timeout');
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    await closed;
    expect(fake.clientClosed).toBe(1);
  });

  it('a stream that ends before message_stop is a 502', async () => {
    const { provider } = await anthropic((_req, res) => {
      startSse(res);
      event(res, messageStart());
      res.end();
    });
    expect(await rejection(collect(provider.stream(ask('hi'), { signal: signal() })))).toMatchObject({
      status: 502,
      message: 'claude: the upstream stream ended before message_stop',
    });
  });

  it('accepts a base URL ending in /v1, and reuses its connection', async () => {
    const { fake, provider } = await anthropic(
      (_req, res) =>
        replyJson(res, 200, {
          id: 'm',
          type: 'message',
          role: 'assistant',
          model: 'c',
          content: [{ type: 'text', text: 'ok' }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 1, output_tokens: 1 },
        }),
      '/v1',
    );
    for (let i = 0; i < 5; i++) expect((await provider.complete(ask('hi'), { signal: signal() })).choices[0].message.content).toBe('ok');
    expect(fake.requests.map((r) => r.path)).toEqual(Array(5).fill('/v1/messages'));
    expect(fake.connections).toBeLessThanOrEqual(2);
  });

  it('a translation problem is a 400 before anything is sent', async () => {
    const { fake, provider } = await anthropic((_req, res) => replyJson(res, 500, {}));
    const bad: ChatRequest = {
      model: 'c',
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: 'nope' } }] }],
    };
    expect(await rejection(provider.complete(bad, { signal: signal() }))).toMatchObject({ status: 400 });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('createProvider', () => {
  it('builds openai and anthropic providers from config, and refuses simulated', async () => {
    fake = await startFakeServer((req, res) => {
      if (req.path === '/v1/messages') {
        replyJson(res, 200, {
          id: 'm',
          type: 'message',
          role: 'assistant',
          model: 'c',
          content: [{ type: 'text', text: 'from anthropic' }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 1, output_tokens: 1 },
        });
      } else {
        replyJson(res, 200, {
          id: 'r',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'from openai' }, finish_reason: 'stop' }],
        });
      }
    });
    const openai = createProvider('oa', { kind: 'openai', baseUrl: `${fake.url}/v1`, apiKey: 'k-123456' }, { clock: systemClock });
    const claude = createProvider('an', { kind: 'anthropic', baseUrl: fake.url, apiKey: 'k-123456', version: '2024-01-01' }, { clock: systemClock });
    try {
      expect(openai.name).toBe('oa');
      expect((await openai.complete(ask('hi'), { signal: signal() })).choices[0].message.content).toBe('from openai');
      expect((await claude.complete(ask('hi'), { signal: signal() })).choices[0].message.content).toBe('from anthropic');
      expect(fake.requests[0].path).toBe('/v1/chat/completions');
      expect(fake.requests[1].headers['anthropic-version']).toBe('2024-01-01');
    } finally {
      await openai.close();
      await claude.close();
    }
    expect(() => createProvider('sim', { kind: 'simulated' }, { clock: systemClock })).toThrow(TypeError);
  });
});
