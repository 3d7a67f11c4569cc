import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../src/core/chat.ts';
import type { ModelProvider, ProviderCallOptions } from '../../src/providers/provider.ts';
import type { Prepared } from '../../src/runtime/model-types.ts';
import { completeUpstream, streamUpstream } from '../../src/runtime/passthrough.ts';

/**
 * Issue 20: src/runtime/passthrough.ts through its exports. A request that arrived as a Responses API
 * body goes upstream as that body (serving model, clamped cap, stream flag, store false) when the
 * provider speaks that API, and as the chat view otherwise; the answer comes back as a chat view with
 * `native` set. Exact values.
 */

const request: ChatRequest = { model: 'asked', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5000 };
const prepared = (upstreamModel?: string): Prepared =>
  ({ request, model: { name: 'served', ...(upstreamModel ? { upstreamModel } : {}) }, maxTokens: 64 }) as unknown as Prepared;
const body = { model: 'asked', input: 'hello', store: true, stream: true, max_output_tokens: 5000, instructions: 'be brief' };
const passthrough = { api: 'responses' as const, body };
const opts: ProviderCallOptions = { signal: new AbortController().signal };

const nativeResponse = {
  id: 'resp_1',
  created_at: 9,
  model: 'up-model',
  output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }],
  usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
};
const nativeEvents = [
  { type: 'response.output_text.delta', delta: 'h' },
  { type: 'response.output_text.delta', delta: 'i' },
];
const chatAnswer: ChatResponse = {
  id: 'chat_1',
  object: 'chat.completion',
  created: 1,
  model: 'served',
  choices: [{ index: 0, message: { role: 'assistant', content: 'chat' }, finish_reason: 'stop' }],
};
const chatChunk: ChatChunk = {
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'served',
  choices: [{ index: 0, delta: { content: 'c' }, finish_reason: null }],
};

/** A provider recording every call: which method, with what, and the options object. */
function recording(withResponses: boolean) {
  const log: Array<{ method: string; arg: unknown; opts: ProviderCallOptions }> = [];
  const provider: ModelProvider = {
    name: 'rec',
    complete: async (req, o) => {
      log.push({ method: 'complete', arg: req, opts: o });
      return chatAnswer;
    },
    stream: (req, o) => {
      log.push({ method: 'stream', arg: req, opts: o });
      return (async function* () {
        yield chatChunk;
      })();
    },
    ...(withResponses
      ? {
          responses: {
            create: async (b: Record<string, unknown>, o: ProviderCallOptions) => {
              log.push({ method: 'responses.create', arg: b, opts: o });
              return nativeResponse;
            },
            stream: (b: Record<string, unknown>, o: ProviderCallOptions) => {
              log.push({ method: 'responses.stream', arg: b, opts: o });
              return (async function* () {
                yield* nativeEvents;
              })();
            },
          },
        }
      : {}),
  };
  return { provider, log };
}

async function collect(it: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('completeUpstream', () => {
  it('passthrough to a provider that speaks the API: the body with the upstream model, the clamped cap, stream false, store false', async () => {
    const { provider, log } = recording(true);
    const out = await completeUpstream(provider, prepared('up-model'), passthrough, opts);
    expect(log).toEqual([
      {
        method: 'responses.create',
        arg: { model: 'up-model', input: 'hello', store: false, stream: false, max_output_tokens: 64, instructions: 'be brief' },
        opts,
      },
    ]);
    expect(log[0]?.opts).toBe(opts);
    expect(out).toEqual({
      id: 'resp_1',
      object: 'chat.completion',
      created: 9,
      model: 'up-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      native: nativeResponse,
    });
    expect(body).toEqual({ model: 'asked', input: 'hello', store: true, stream: true, max_output_tokens: 5000, instructions: 'be brief' });
  });

  it('the serving model name when it has no upstream name', async () => {
    const { provider, log } = recording(true);
    await completeUpstream(provider, prepared(), passthrough, opts);
    expect(log.map((l) => (l.arg as { model: string }).model)).toEqual(['served']);
  });

  it('no passthrough, to a provider that could take one: the chat view', async () => {
    const { provider, log } = recording(true);
    expect(await completeUpstream(provider, prepared('up-model'), undefined, opts)).toBe(chatAnswer);
    expect(log).toEqual([
      { method: 'complete', arg: { model: 'up-model', messages: [{ role: 'user', content: 'hello' }], max_tokens: 64, stream: false }, opts },
    ]);
  });

  it('passthrough to a chat-only provider: the chat view', async () => {
    const { provider, log } = recording(false);
    expect(await completeUpstream(provider, prepared(), passthrough, opts)).toBe(chatAnswer);
    expect(log).toEqual([
      { method: 'complete', arg: { model: 'served', messages: [{ role: 'user', content: 'hello' }], max_tokens: 64, stream: false }, opts },
    ]);
  });
});

describe('streamUpstream', () => {
  it('passthrough to a provider that speaks the API: the body with stream true and store false; each event as a chunk carrying it', async () => {
    const { provider, log } = recording(true);
    const chunks = await collect(streamUpstream(provider, prepared('up-model'), passthrough, opts));
    expect(log).toEqual([
      {
        method: 'responses.stream',
        arg: { model: 'up-model', input: 'hello', store: false, stream: true, max_output_tokens: 64, instructions: 'be brief' },
        opts,
      },
    ]);
    expect(chunks).toEqual([
      {
        id: '',
        object: 'chat.completion.chunk',
        created: 0,
        model: '',
        native: nativeEvents[0],
        choices: [{ index: 0, delta: { content: 'h' }, finish_reason: null }],
      },
      {
        id: '',
        object: 'chat.completion.chunk',
        created: 0,
        model: '',
        native: nativeEvents[1],
        choices: [{ index: 0, delta: { content: 'i' }, finish_reason: null }],
      },
    ]);
    expect(chunks[0]?.native).toBe(nativeEvents[0]);
  });

  it('no passthrough: the chat stream, with usage asked for', async () => {
    const { provider, log } = recording(true);
    expect(await collect(streamUpstream(provider, prepared(), undefined, opts))).toEqual([chatChunk]);
    expect(log).toEqual([
      {
        method: 'stream',
        arg: { model: 'served', messages: [{ role: 'user', content: 'hello' }], max_tokens: 64, stream: true, stream_options: { include_usage: true } },
        opts,
      },
    ]);
  });

  it('passthrough to a chat-only provider: the chat stream', async () => {
    const { provider, log } = recording(false);
    expect(await collect(streamUpstream(provider, prepared(), passthrough, opts))).toEqual([chatChunk]);
    expect(log.map((l) => l.method)).toEqual(['stream']);
  });
});
