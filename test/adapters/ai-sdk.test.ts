import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import { aiSdk, costUsd, createGuard, frameworkConfig, GuardError, rejection, startSimServer, type Guard, type SimServer } from './helpers.ts';

const { guardMiddleware, guardStopWhen, guardTools, frameworkProvider, GuardAPICallError } = aiSdk;

const open: Array<Guard | SimServer> = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

function guardFor(agent: Record<string, unknown> = {}): Guard {
  const guard = createGuard({ config: frameworkConfig(agent), providers: { app: frameworkProvider('app') } });
  open.push(guard);
  return guard;
}

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

/** A model that asks for `toolName` every time, with new arguments each call (a loop no repeat detector sees). */
function loopingModel(toolName = 'search', modelId = 'gpt-test') {
  let n = 0;
  return new MockLanguageModelV3({
    modelId,
    doGenerate: async () => ({
      content: [{ type: 'tool-call', toolCallId: `call-${++n}`, toolName, input: JSON.stringify({ query: `attempt ${n}` }) }],
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage: usage(120, 30),
      warnings: [],
    }),
  });
}

const searchTool = (executed: string[]) =>
  tool({
    description: 'Search the knowledge base',
    inputSchema: jsonSchema<{ query: string }>({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }),
    execute: async ({ query }) => {
      executed.push(query);
      return `3 documents match ${query}`;
    },
  });

describe('fmguard/ai-sdk: a looping agent', () => {
  it('is stopped at its step limit with limit.steps, raised as an APICallError the SDK does not retry', async () => {
    const guard = guardFor({ limits: { maxSteps: 4 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: loopingModel(), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const executed: string[] = [];
    const error = await rejection(
      generateText({
        model,
        tools: guardTools({ search: searchTool(executed) }, run, { toolServer: 'demo' }),
        stopWhen: stepCountIs(100),
        prompt: 'find my order',
      }),
    );
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(GuardAPICallError);
    const apiError = error as InstanceType<typeof GuardAPICallError>;
    expect(apiError.code).toBe('limit.steps');
    expect(apiError.isRetryable).toBe(false);
    expect(apiError.statusCode).toBe(403);
    expect(apiError.data).toMatchObject({ code: 'limit.steps', details: { limit: 4 } });
    expect(GuardError.isInstance(apiError.cause)).toBe(true);
    const used = await run.usage();
    expect(used.steps).toBe(4);
    expect(used.toolCalls).toBe(4);
    expect(executed).toHaveLength(4);
  });

  it('ends gracefully with guardStopWhen: generateText returns the steps the run could pay for', async () => {
    const guard = guardFor({ limits: { maxSteps: 3 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: loopingModel(), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const stopWhen = guardStopWhen(run);
    const executed: string[] = [];
    const result = await generateText({
      model,
      tools: guardTools({ search: searchTool(executed) }, run, { toolServer: 'demo' }),
      stopWhen: [stopWhen, stepCountIs(100)],
      prompt: 'find it',
    });
    expect(result.steps).toHaveLength(3);
    expect(stopWhen.reason?.code).toBe('limit.steps');
    expect((await run.usage()).steps).toBe(3);
  });

  it('is stopped at its cost limit with limit.cost, having spent no more than the limit', async () => {
    const guard = guardFor({ limits: { maxCostUsd: 0.5, maxSteps: 1000 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: loopingModel('search', 'gpt-pricey'), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const error = await rejection(
      generateText({
        model,
        tools: guardTools({ search: searchTool([]) }, run, { toolServer: 'demo' }),
        stopWhen: stepCountIs(1000),
        maxOutputTokens: 100,
        prompt: 'go',
      }),
    );
    expect((error as InstanceType<typeof GuardAPICallError>).code).toBe('limit.cost');
    const used = await run.usage();
    expect(used.costUsd).toBeLessThanOrEqual(0.5);
    // Each call settles at what the model reported, 120 × $300/M + 30 × $1200/M = $0.072; the call
    // refused was the one whose worst case (input bound + output cap) no longer fit.
    expect(used.steps).toBeGreaterThanOrEqual(4);
    expect(used.costUsd).toBeCloseTo(used.steps * 0.072, 12);
    expect(used.reservedCostUsd).toBe(0);
  });

  it('repeating the same tool call is stopped by the loop detector with loop.repeated_tool_call', async () => {
    const guard = guardFor({ limits: { maxIdenticalToolCalls: 2, maxSteps: 50 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({
      model: new MockLanguageModelV3({
        modelId: 'gpt-test',
        doGenerate: async () => ({
          content: [{ type: 'tool-call', toolCallId: `c${Math.random()}`, toolName: 'search', input: '{"query":"same"}' }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(50, 10),
          warnings: [],
        }),
      }),
      middleware: guardMiddleware(run, { toolServer: 'demo' }),
    });
    const error = await rejection(
      generateText({ model, tools: guardTools({ search: searchTool([]) }, run, { toolServer: 'demo' }), stopWhen: stepCountIs(100), prompt: 'go' }),
    );
    expect((error as InstanceType<typeof GuardAPICallError>).code).toBe('loop.repeated_tool_call');
    expect(run.stopError?.code).toBe('loop.repeated_tool_call');
    expect((await run.usage()).toolCalls).toBe(2);
  });
});

describe('fmguard/ai-sdk: a forbidden tool', () => {
  const deleteTool = (executed: string[]) =>
    tool({
      description: 'Delete a file',
      inputSchema: jsonSchema<{ path: string }>({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }),
      execute: async ({ path }) => {
        executed.push(path);
        return 'deleted';
      },
    });
  const proposesDelete = () =>
    new MockLanguageModelV3({
      modelId: 'gpt-test',
      doGenerate: [
        {
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'delete_file', input: '{"path":"/"}' }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(40, 12),
          warnings: [],
        },
        { content: [{ type: 'text', text: 'I may not delete files.' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(60, 8), warnings: [] },
      ],
    });

  it('proposed by the model is refused with policy.denied before the SDK can run it', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const model = wrapLanguageModel({ model: proposesDelete(), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const error = await rejection(generateText({ model, tools: { delete_file: deleteTool(executed) }, stopWhen: stepCountIs(5), prompt: 'tidy up' }));
    expect((error as InstanceType<typeof GuardAPICallError>).code).toBe('policy.denied');
    expect(executed).toEqual([]);
    // The call was made and paid for; the response was withheld.
    expect((await run.usage()).steps).toBe(1);
  });

  it('wrapped with guardTools is refused at execution; the model is told why and adapts', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const model = wrapLanguageModel({ model: proposesDelete(), middleware: guardMiddleware(run, { toolServer: 'demo', proposedToolCalls: 'allow' }) });
    const result = await generateText({
      model,
      tools: guardTools({ delete_file: deleteTool(executed) }, run, { toolServer: 'demo' }),
      stopWhen: stepCountIs(5),
      prompt: 'tidy up',
    });
    expect(executed).toEqual([]);
    const toolError = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(toolError).toBeDefined();
    expect(String((toolError as { error: unknown }).error)).toContain('policy.denied');
    expect(result.text).toBe('I may not delete files.');
    expect((await run.usage()).toolCalls).toBe(0);
  });
});

describe('fmguard/ai-sdk: guarded tools', () => {
  const callsOnce = (toolName: string, input: string) =>
    new MockLanguageModelV3({
      modelId: 'gpt-test',
      doGenerate: [
        {
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName, input }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(40, 12),
          warnings: [],
        },
        { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(60, 4), warnings: [] },
      ],
    });

  it('a tool that hangs is timed out, its abortSignal fired, and the model told timeout.tool', async () => {
    const guard = guardFor({ timeouts: { tool: { totalMs: 100 } } });
    const run = await guard.startRun({ agent: 'bot' });
    let aborted = false;
    const sleep = tool({
      description: 'Sleep',
      inputSchema: jsonSchema<{ ms: number }>({ type: 'object', properties: { ms: { type: 'number' } } }),
      execute: ({ ms }, { abortSignal }) =>
        new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => resolve('slept'), ms);
          abortSignal?.addEventListener('abort', () => {
            aborted = true;
            clearTimeout(timer);
            reject(abortSignal.reason);
          });
        }),
    });
    const model = wrapLanguageModel({ model: callsOnce('sleep', '{"ms":60000}'), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const result = await generateText({ model, tools: guardTools({ sleep }, run, { toolServer: 'demo' }), stopWhen: stepCountIs(5), prompt: 'wait' });
    const toolError = result.steps[0]!.content.find((part) => part.type === 'tool-error') as { error: unknown } | undefined;
    expect(String(toolError?.error)).toContain('timeout.tool');
    expect(aborted).toBe(true);
  });

  it('a tool under an approval rule is held with approval.required until approved', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const sent: string[] = [];
    const sendEmail = tool({
      description: 'Send an email',
      inputSchema: jsonSchema<{ to: string }>({ type: 'object', properties: { to: { type: 'string' } } }),
      execute: async ({ to }) => {
        sent.push(to);
        return 'sent';
      },
    });
    const model = wrapLanguageModel({ model: callsOnce('send_email', '{"to":"ada@example.com"}'), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
    const result = await generateText({
      model,
      tools: guardTools({ send_email: sendEmail }, run, { toolServer: 'demo' }),
      stopWhen: stepCountIs(5),
      prompt: 'mail ada',
    });
    const toolError = result.steps[0]!.content.find((part) => part.type === 'tool-error') as
      | { error: { code: string; cause: { details: { approvalId: string } } } }
      | undefined;
    expect(toolError?.error.code).toBe('approval.required');
    expect(sent).toEqual([]);
    await guard.approve(toolError!.error.cause.details.approvalId, 'test');
    const guarded = guardTools({ send_email: sendEmail }, run, { toolServer: 'demo' });
    await guarded.send_email.execute!({ to: 'ada@example.com' }, { toolCallId: 'c2', messages: [] });
    expect(sent).toEqual(['ada@example.com']);
  });
});

describe('fmguard/ai-sdk: streams', () => {
  const slowStream = (pieces: number, delayMs: number) =>
    new MockLanguageModelV3({
      modelId: 'gpt-test',
      doStream: async ({ abortSignal }) => {
        const chunks = [
          { type: 'stream-start' as const, warnings: [] },
          { type: 'text-start' as const, id: 't' },
          ...Array.from({ length: pieces }, (_, i) => ({ type: 'text-delta' as const, id: 't', delta: `word${i} ` })),
          { type: 'text-end' as const, id: 't' },
          { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage: usage(30, pieces * 2) },
        ];
        let i = 0;
        const stream = new ReadableStream({
          async pull(controller) {
            if (i >= chunks.length) return controller.close();
            if (i > 2) await new Promise((resolve) => setTimeout(resolve, delayMs));
            if (abortSignal?.aborted) return controller.error(abortSignal.reason);
            controller.enqueue(chunks[i++]!);
          },
        });
        return { stream };
      },
    });

  it('a streamed call is cut by a kill: the stream errors with kill.switch and what flowed is paid for', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: slowStream(10_000, 2), middleware: guardMiddleware(run) });
    const result = streamText({ model, prompt: 'tell me everything' });
    let text = '';
    const error = await rejection(
      (async () => {
        for await (const delta of result.textStream) {
          text += delta;
          if (text.length > 60 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'operator pressed stop');
        }
      })(),
    );
    expect((error as InstanceType<typeof GuardAPICallError>).code).toBe('kill.switch');
    expect(text.length).toBeGreaterThan(60);
    expect(text.length).toBeLessThan(10_000 * 6);
    const used = await run.usage();
    expect(used.steps).toBe(1);
    // No usage was reported (the stream was cut): the output that flowed is charged.
    expect(used.outputTokens).toBeGreaterThan(0);
    expect(used.reservedCostUsd).toBe(0);
  });

  it('a stream longer than its reservation is cut with limit.tokens', async () => {
    const guard = guardFor({ limits: { maxOutputTokensPerCall: 50 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: slowStream(500, 0), middleware: guardMiddleware(run) });
    const result = streamText({ model, prompt: 'go on forever' });
    const error = await rejection(result.text);
    expect((error as InstanceType<typeof GuardAPICallError>).code).toBe('limit.tokens');
  });

  it('a stream cancelled before it is read still settles: nothing stays reserved, the model is stopped', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    let aborted = false;
    const mock = new MockLanguageModelV3({
      modelId: 'gpt-test',
      doStream: async ({ abortSignal }) => {
        abortSignal?.addEventListener('abort', () => (aborted = true), { once: true });
        return {
          stream: new ReadableStream({
            start(controller) {
              controller.enqueue({ type: 'text-delta', id: 't', delta: 'hello' });
            },
          }),
        };
      },
    });
    const model = wrapLanguageModel({ model: mock, middleware: guardMiddleware(run) });
    const { stream } = await model.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    await stream.cancel();
    const used = await run.usage();
    expect(used.steps).toBe(1);
    expect(used.reservedCostUsd).toBe(0);
    expect(aborted).toBe(true);
  });

  it('the model is asked for no more output than the budget can pay for', async () => {
    const guard = guardFor({ limits: { maxOutputTokensPerCall: 77 } });
    const run = await guard.startRun({ agent: 'bot' });
    const mock = slowStream(3, 0);
    const model = wrapLanguageModel({ model: mock, middleware: guardMiddleware(run) });
    await streamText({ model, prompt: 'short', maxOutputTokens: 4000 }).text;
    expect(mock.doStreamCalls[0]!.maxOutputTokens).toBe(77);
  });
});

describe('fmguard/ai-sdk: spend', () => {
  it('is recorded exactly as the gateway records it: the usage the model reported, at the price table', async () => {
    const sim = await startSimServer({ model: { seed: 7 } });
    open.push(sim);
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const provider = createOpenAICompatible({ name: 'sim', baseURL: `${sim.url}/v1`, includeUsage: true });
    const model = wrapLanguageModel({ model: provider.chatModel('gpt-test'), middleware: guardMiddleware(run) });

    const generated = await generateText({ model, prompt: 'Describe the refund policy.' });
    const streamed = streamText({ model, prompt: 'Write a short poem about budgets.' });
    await streamed.text;
    const streamedUsage = await streamed.usage;

    const calls = [generated.usage, streamedUsage].map((u) => ({ inputTokens: u.inputTokens!, outputTokens: u.outputTokens! }));
    expect(calls.every((c) => c.inputTokens > 0 && c.outputTokens > 0)).toBe(true);
    const used = await run.usage();
    expect(used.steps).toBe(2);
    expect(used.inputTokens).toBe(calls[0]!.inputTokens + calls[1]!.inputTokens);
    expect(used.outputTokens).toBe(calls[0]!.outputTokens + calls[1]!.outputTokens);
    expect(used.costUsd).toBe(costUsd(calls));
    expect(used.reservedCostUsd).toBe(0);
  });
});

describe('fmguard/ai-sdk: retries and timeouts are the runtime’s', () => {
  it('an upstream failure is retried by fmguard’s policy; once spent, the SDK is told not to retry on top', async () => {
    const guard = guardFor({ retry: [{ errorEquals: ['upstream.error'], intervalMs: 1, maxAttempts: 2 }] });
    const run = await guard.startRun({ agent: 'bot' });
    const mock = new MockLanguageModelV3({
      modelId: 'gpt-test',
      doGenerate: async () => {
        throw new APICallError({ message: 'overloaded', url: 'https://upstream.example/v1', requestBodyValues: {}, statusCode: 503, isRetryable: true });
      },
    });
    const model = wrapLanguageModel({ model: mock, middleware: guardMiddleware(run) });
    const error = (await rejection(generateText({ model, prompt: 'hi', maxRetries: 2 }))) as InstanceType<typeof GuardAPICallError>;
    expect(error.code).toBe('upstream.error');
    expect(error.isRetryable).toBe(false);
    // One attempt and fmguard's two retries; none from the SDK.
    expect(mock.doGenerateCalls).toHaveLength(3);
  });

  it('a rate-limit refusal is retryable and says when', async () => {
    const guard = guardFor({ rateLimits: { requestsPerMinute: 1 } });
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({
      model: new MockLanguageModelV3({
        modelId: 'gpt-test',
        doGenerate: async () => ({ content: [{ type: 'text', text: 'ok' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(5, 1), warnings: [] }),
      }),
      middleware: guardMiddleware(run),
    });
    await generateText({ model, prompt: 'one' });
    const error = (await rejection(generateText({ model, prompt: 'two', maxRetries: 0 }))) as InstanceType<typeof GuardAPICallError>;
    expect(error.code).toBe('rate.limited');
    expect(error.isRetryable).toBe(true);
    expect(error.statusCode).toBe(429);
    expect(Number(error.responseHeaders?.['retry-after-ms'])).toBeGreaterThan(0);
  });

  it('a stream that sends nothing is cut by the first-token timeout', async () => {
    const guard = guardFor({ timeouts: { model: { firstTokenMs: 100, totalMs: 10_000 } } });
    const run = await guard.startRun({ agent: 'bot' });
    const stalled = new MockLanguageModelV3({
      modelId: 'gpt-test',
      doStream: async ({ abortSignal }) => ({
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: 'stream-start', warnings: [] });
            abortSignal?.addEventListener('abort', () => controller.error(abortSignal.reason), { once: true });
          },
        }),
      }),
    });
    const model = wrapLanguageModel({ model: stalled, middleware: guardMiddleware(run) });
    // As for any provider error at stream start, streamText reports it to onError (and its full stream).
    const errors: unknown[] = [];
    await rejection(streamText({ model, prompt: 'hello?', maxRetries: 0, onError: ({ error }) => void errors.push(error) }).text);
    const error = errors[0] as InstanceType<typeof GuardAPICallError>;
    expect(error.code).toBe('timeout.first_token');
    expect(error.isRetryable).toBe(true);
  });

  it('a model whose provider is not frameworkProvider() fails loudly instead of being answered by the placeholder', async () => {
    const guard = createGuard({ config: frameworkConfig() });
    open.push(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const model = wrapLanguageModel({ model: loopingModel(), middleware: guardMiddleware(run) });
    const error = await rejection(generateText({ model, prompt: 'hi' }));
    expect(String(error)).toContain('frameworkProvider()');
  });
});
