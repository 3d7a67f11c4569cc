import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deltasOf, startBedrockServer, throttleThen, wordCount, type BedrockServer } from './bedrock-server.ts';
import { BOT_KEY, costNano, nanoToUsd, startBedrockGateway, useFakeAwsCredentials, type BedrockGateway, type ConfigInput } from './helpers.ts';

const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const PRICE = { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08 };

let server: BedrockServer;
let gw: BedrockGateway | undefined;

function config(extra: { retry?: unknown[] } = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { aws: { kind: 'bedrock', region: 'us-east-1', endpoint: server.url } },
    models: { claude: { provider: 'aws', upstreamModel: MODEL_ID, ...PRICE } },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: [BOT_KEY], allow: { models: ['*'], tools: ['*'] } } },
    defaults: { retry: (extra.retry ?? []) as never },
  };
}

async function start(extra: { retry?: unknown[] } = {}): Promise<BedrockGateway> {
  gw = await startBedrockGateway(config(extra));
  return gw;
}

/** What fmguard must charge: the configured price times the tokens Bedrock reported. */
function expectedCost(usage: { inputTokens: number; outputTokens: number; cacheRead?: number }): number {
  return nanoToUsd(
    costNano(PRICE, { inputTokens: usage.inputTokens + (usage.cacheRead ?? 0), outputTokens: usage.outputTokens, cachedInputTokens: usage.cacheRead }),
  );
}

const searchTool = {
  type: 'function' as const,
  function: { name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
};

beforeAll(async () => {
  useFakeAwsCredentials();
  server = await startBedrockServer();
});

afterEach(async () => {
  await gw?.close();
  gw = undefined;
  server.reset();
});

afterAll(async () => {
  await server.close();
});

describe('Bedrock upstream through the gateway (real AWS SDK client, local Bedrock Runtime)', () => {
  it('a plain call: Converse with the translated request, exact usage and cost, the AWS request id in the audit', async () => {
    const { client, audit } = await start();
    server.queue({ kind: 'text', text: 'Paris is the capital of France.', usage: { inputTokens: 23, outputTokens: 7 } });
    const { data, response } = await client()
      .chat.completions.create({
        model: 'claude',
        max_tokens: 100,
        temperature: 0.2,
        messages: [
          { role: 'system', content: 'Answer in one sentence.' },
          { role: 'user', content: 'What is the capital of France?' },
        ],
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('Paris is the capital of France.');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 7, total_tokens: 30 });

    const call = server.calls[0]!;
    expect(call.operation).toBe('converse');
    expect(call.modelId).toBe(MODEL_ID);
    // Signed with SigV4 for bedrock in the configured Region, with the fake key from the standard chain.
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFMGUARDTEST00001\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    expect(call.body).toEqual({
      system: [{ text: 'Answer in one sentence.' }],
      messages: [{ role: 'user', content: [{ text: 'What is the capital of France?' }] }],
      inferenceConfig: { maxTokens: 100, temperature: 0.2 },
    });

    const cost = expectedCost({ inputTokens: 23, outputTokens: 7 });
    expect(response.headers.get('x-fmguard-run-cost-usd')).toBe(String(cost));
    expect(response.headers.get('x-fmguard-run-steps')).toBe('1');

    await gw!.guard.audit!.flush();
    const [allowed] = await audit.query({ type: 'call.allowed' });
    expect(allowed).toMatchObject({
      resource: 'claude',
      usage: { inputTokens: 23, outputTokens: 7 },
      costUsd: cost,
      details: { upstreamRequestId: call.requestId },
    });
  });

  it('a streamed call: ConverseStream event frames become SSE chunks; the usage chunk and the ledger agree with Bedrock', async () => {
    const { client, guard } = await start();
    const text = 'One two three four five six seven.';
    server.queue({ kind: 'text', text, usage: { inputTokens: 12, outputTokens: 9 } });
    const { data: stream, response } = await client()
      .chat.completions.create(
        {
          model: 'claude',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'Count to seven.' }],
        },
        // A named run: its ledger is on the store, to be read back below (a run of its own stays off it).
        { headers: { 'x-fmguard-run': 'run-stream-usage' } },
      )
      .withResponse();
    let content = '';
    let usage: unknown;
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      content += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).toBe(text);
    expect(chunks).toBeGreaterThanOrEqual(deltasOf(text).length);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 9 });
    expect(server.calls[0]!.operation).toBe('converse-stream');

    const runId = response.headers.get('x-fmguard-run')!;
    const run = await guard.startRun({ agent: 'bot', id: runId });
    expect(await run.usage()).toMatchObject({ steps: 1, inputTokens: 12, outputTokens: 9, costUsd: expectedCost({ inputTokens: 12, outputTokens: 9 }) });
  });

  it('tool use, non-streamed: tools become toolConfig, toolUse becomes tool_calls, and the tool result goes back as a toolResult block', async () => {
    const { client } = await start();
    server.queue({
      kind: 'tool',
      name: 'search',
      input: { query: 'bedrock pricing' },
      id: 'tooluse_abc',
      text: 'Let me look.',
      usage: { inputTokens: 40, outputTokens: 15 },
    });
    const first = await client().chat.completions.create({
      model: 'claude',
      tools: [searchTool],
      tool_choice: 'auto',
      messages: [{ role: 'user', content: 'Find Bedrock prices.' }],
    });
    const message = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.content).toBe('Let me look.');
    expect(message.tool_calls).toEqual([{ id: 'tooluse_abc', type: 'function', function: { name: 'search', arguments: '{"query":"bedrock pricing"}' } }]);
    expect(server.calls[0]!.body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'search', description: 'Search the web', inputSchema: { json: searchTool.function.parameters } } }],
      toolChoice: { auto: {} },
    });

    server.queue({ kind: 'text', text: 'It costs little.', usage: { inputTokens: 60, outputTokens: 4 } });
    const second = await client().chat.completions.create({
      model: 'claude',
      tools: [searchTool],
      messages: [
        { role: 'user', content: 'Find Bedrock prices.' },
        message as never,
        { role: 'tool', tool_call_id: 'tooluse_abc', content: 'Prices: $0.80 per million input tokens.' },
      ],
    });
    expect(second.choices[0]!.message.content).toBe('It costs little.');
    expect(server.calls[1]!.body.messages).toEqual([
      { role: 'user', content: [{ text: 'Find Bedrock prices.' }] },
      {
        role: 'assistant',
        content: [{ text: 'Let me look.' }, { toolUse: { toolUseId: 'tooluse_abc', name: 'search', input: { query: 'bedrock pricing' } } }],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_abc', content: [{ text: 'Prices: $0.80 per million input tokens.' }] } }] },
    ]);
  });

  it('tool use, streamed: contentBlockStart/toolUse deltas assemble into one tool call with the full arguments', async () => {
    const { client } = await start();
    const input = { query: 'a fairly long query that arrives in several pieces', limit: 5 };
    server.queue({ kind: 'tool', name: 'search', input, id: 'tooluse_xyz', usage: { inputTokens: 30, outputTokens: 20 } });
    const stream = await client().chat.completions.create({
      model: 'claude',
      stream: true,
      tools: [searchTool],
      messages: [{ role: 'user', content: 'Search.' }],
    });
    let id: string | undefined;
    let name: string | undefined;
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        id ??= call.id;
        name ??= call.function?.name;
        args += call.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect({ id, name, finish }).toEqual({ id: 'tooluse_xyz', name: 'search', finish: 'tool_calls' });
    expect(JSON.parse(args)).toEqual(input);
  });

  it('through the SDK, the tool input streams as argument deltas (the gateway holds a call back until it is checked)', async () => {
    const { guard } = await start();
    const input = { query: 'a fairly long query that arrives in several pieces', limit: 5 };
    server.queue({ kind: 'tool', name: 'search', input, id: 'tooluse_sdk', usage: { inputTokens: 30, outputTokens: 20 } });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel({ model: 'claude', tools: [searchTool], messages: [{ role: 'user', content: 'Search.' }] });
    const pieces: string[] = [];
    let header: unknown;
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.id) header = { id: call.id, name: call.function?.name };
        if (call.function?.arguments) pieces.push(call.function.arguments);
      }
    }
    expect(header).toEqual({ id: 'tooluse_sdk', name: 'search' });
    expect(pieces.length).toBe(Math.ceil(JSON.stringify(input).length / 7));
    expect(JSON.parse(pieces.join(''))).toEqual(input);
    expect((await stream.result).usage).toEqual({ inputTokens: 30, outputTokens: 20, cachedInputTokens: undefined });
  });

  it('cache reads are metered at the cached price (prompt tokens include them, as OpenAI counts)', async () => {
    const { client } = await start();
    server.queue({ kind: 'text', text: 'Cached.', usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 1000 } });
    const { data, response } = await client()
      .chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(data.usage).toMatchObject({ prompt_tokens: 1010, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 1000 } });
    expect(response.headers.get('x-fmguard-run-cost-usd')).toBe(String(expectedCost({ inputTokens: 10, outputTokens: 3, cacheRead: 1000 })));
  });

  it('a kill cuts a stream: the SSE stream ends with kill.switch and the local Bedrock sees its connection closed', async () => {
    const { client, guard } = await start();
    server.queue({ kind: 'stall', deltas: 3 });
    const stream = await client().chat.completions.create(
      { model: 'claude', stream: true, messages: [{ role: 'user', content: 'Talk forever.' }] },
      { headers: { 'x-fmguard-run': 'run-to-kill' } },
    );
    const received: string[] = [];
    const reading = (async () => {
      try {
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta.content;
          if (text) received.push(text);
          if (received.length === 3) await guard.kill('run:run-to-kill@bot', 'test kill');
        }
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    const error = (await reading) as { error?: { code?: string } } | undefined;
    expect(received).toEqual(['word0 ', 'word1 ', 'word2 ']);
    expect(error?.error?.code ?? (error as { code?: string })?.code).toBe('kill.switch');
    // The upstream connection is closed (Bedrock stops generating and billing), not left to idle.
    await expect(Promise.race([server.calls[0]!.connectionClosed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 5000))])).resolves.toBe(
      'closed',
    );
    expect(server.calls[0]!.completed).toBe(false);
  });

  it('throttling is retried per the retry config: 2 ThrottlingExceptions then success = 3 attempts at the server', async () => {
    const { client, events } = await start({ retry: [{ errorEquals: ['rate.limited'], intervalMs: 5, backoffRate: 2, maxAttempts: 2 }] });
    server.queue(...throttleThen(2, { kind: 'text', text: 'Finally.', usage: { inputTokens: 5, outputTokens: 1 } }));
    const res = await client().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0]!.message.content).toBe('Finally.');
    expect(server.calls).toHaveLength(3);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => (e as { code: string }).code)).toEqual(['rate.limited', 'rate.limited']);
  });

  it('throttling beyond the retries reaches the client as 429 rate.limited, and fmguard says not to retry on top', async () => {
    const { url } = await start({ retry: [{ errorEquals: ['rate.limited'], intervalMs: 5, maxAttempts: 2 }] });
    server.queue(...throttleThen(3, { kind: 'text', text: 'never' }));
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-fmguard-code')).toBe('rate.limited');
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(server.calls).toHaveLength(3);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate.limited');
    expect(body.error.message).toContain('ThrottlingException');
  });

  it('without a retrier for rate.limited a throttle is not retried by fmguard, and the client may retry (429, x-should-retry: true)', async () => {
    const { url } = await start({ retry: [{ errorEquals: ['upstream.error'], intervalMs: 5, maxAttempts: 3 }] });
    server.queue(...throttleThen(1, { kind: 'text', text: 'never' }));
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-should-retry')).toBe('true');
    expect(server.calls).toHaveLength(1);
  });

  it('a ValidationException is request.invalid (400) and never retried, even by an `all` retrier; its request id is audited', async () => {
    const { url, audit, guard } = await start({ retry: [{ errorEquals: ['all'], intervalMs: 5, maxAttempts: 3 }] });
    server.queue({ kind: 'error', name: 'ValidationException', status: 400, message: 'messages: roles must alternate' });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request.invalid');
    expect(server.calls).toHaveLength(1);
    await guard.audit!.flush();
    const [failed] = await audit.query({ type: 'call.failed' });
    expect(failed).toMatchObject({ code: 'request.invalid', details: { upstreamRequestId: server.calls[0]!.requestId } });
  });

  it('ModelNotReadyException and service errors are upstream.error and retried per the config (the SDK itself does not retry)', async () => {
    const { client } = await start({ retry: [{ errorEquals: ['upstream.error'], intervalMs: 5, maxAttempts: 3 }] });
    server.queue(
      { kind: 'error', name: 'ModelNotReadyException', status: 429 },
      { kind: 'error', name: 'ServiceUnavailableException', status: 503 },
      { kind: 'error', name: 'InternalServerException', status: 500 },
      { kind: 'text', text: 'Ready now.' },
    );
    const res = await client().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0]!.message.content).toBe('Ready now.');
    expect(server.calls).toHaveLength(4);
  });

  it('an exception event mid-stream ends the SSE stream with upstream.error after the text that flowed', async () => {
    const { client } = await start();
    server.queue({ kind: 'stream-error', deltas: 2, exception: 'modelStreamErrorException', message: 'the model failed' });
    const stream = await client().chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
    let text = '';
    let error: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    } catch (e) {
      error = e;
    }
    expect(text).toBe('word0 word1 ');
    expect((error as { error?: { code?: string; message?: string } }).error).toMatchObject({ code: 'upstream.error' });
    expect((error as { error: { message: string } }).error.message).toContain('ModelStreamErrorException');
  });

  it('a request Bedrock cannot take (an image link instead of bytes) is refused as request.invalid before any call', async () => {
    const { client } = await start();
    const attempt = client().chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
    });
    await expect(attempt).rejects.toMatchObject({ status: 400, code: 'request.invalid' });
    expect(server.calls).toHaveLength(0);
  });

  it('the input the local Bedrock counted is what fmguard settled (input tokens from Bedrock, not fmguard’s estimate)', async () => {
    const { client } = await start();
    const prompt = 'alpha beta gamma delta epsilon';
    const res = await client().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: prompt }] });
    expect(res.usage!.prompt_tokens).toBe(wordCount(server.calls[0]!.body) + 10);
  });
});
