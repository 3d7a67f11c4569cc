import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createGuard,
  createSimModel,
  type ChatRequest,
  type ChatResponse,
  GuardError,
  type GuardEvent,
  type ModelProvider,
  type ProviderCallOptions,
  ProviderError,
} from '../../src/index.ts';
import { guardError } from '../../src/core/errors.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 20: a guarded non-streaming model call (src/runtime/call-model.ts) through Run.callModel, each
 * branch pinned with exact values: the result object, the usage when the upstream reports none, the
 * catch chain's result, admission refusals never caught, the call counted in flight, the attempt's
 * timeout and abort, the request sent upstream (chat and passthrough), the upstream request id.
 */

const START = Date.UTC(2026, 0, 1);

/** Every guard a test makes is closed after it, whether the test passed or not. */
const open: Array<ReturnType<typeof createGuard>> = [];
function guardOf(options: Parameters<typeof createGuard>[0]): ReturnType<typeof createGuard> {
  const guard = createGuard(options);
  open.push(guard);
  return guard;
}
afterEach(async () => {
  for (const guard of open.splice(0)) await guard.close();
});

function answer(req: ChatRequest, content: string | null, usage?: ChatResponse['usage'], extra: Record<string, unknown> = {}): ChatResponse {
  return {
    id: 'resp_1',
    object: 'chat.completion',
    created: 1,
    model: req.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', ...extra }],
    ...(usage ? { usage } : {}),
  } as ChatResponse;
}

/** A provider that answers `content` (with `usage` when given) and records each request and its options. */
function fixed(content: string | null, usage?: ChatResponse['usage']) {
  const requests: ChatRequest[] = [];
  const options: ProviderCallOptions[] = [];
  const provider: ModelProvider = {
    name: 'fixed',
    complete: async (req, opts) => {
      requests.push(req);
      options.push(opts);
      return answer(req, content, usage);
    },
    stream: () => {
      throw new Error('not streamed here');
    },
  };
  return { provider, requests, options };
}

function listen(guard: ReturnType<typeof createGuard>, prefix = 'call.'): GuardEvent[] {
  const events: GuardEvent[] = [];
  guard.on((e) => {
    if (e.type.startsWith(prefix)) events.push(e);
  });
  return events;
}

async function failure(p: Promise<unknown>): Promise<GuardError> {
  try {
    await p;
  } catch (error) {
    if (!GuardError.isInstance(error)) throw error;
    return error;
  }
  throw new Error('expected a GuardError');
}

describe('callModel: the result', () => {
  it('no usage reported: the input bound and the output bytes (UTF-8, not characters); exactly these keys, no servedBy or caught', async () => {
    const { provider, requests } = fixed('héllo wörld');
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello'));
    expect(result).toStrictEqual({
      response: answer(requests[0]!, 'héllo wörld'),
      usage: { inputTokens: 21, outputTokens: 13 },
      costUsd: 0.00001095,
      maxTokens: 4096,
      attempts: 1,
      model: 'sim-small',
    });
    expect(requests).toEqual([{ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }], stream: false, max_tokens: 4096 }]);
  });

  it('no usage reported and no content: no output tokens', async () => {
    const { provider } = fixed(null);
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello'));
    expect(result.usage).toEqual({ inputTokens: 21, outputTokens: 0 });
  });

  it('no usage reported: the output bytes are capped at the clamped output cap', async () => {
    const { provider, requests } = fixed('x'.repeat(40));
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hello'), max_tokens: 7 });
    expect(result.usage).toEqual({ inputTokens: 21, outputTokens: 7 });
    expect(result.maxTokens).toBe(7);
    expect(requests[0]?.max_tokens).toBe(7);
  });

  it('a response with no choices (or an empty list): allowed, no output tokens when no usage is reported', async () => {
    for (const choices of [undefined, []]) {
      const provider: ModelProvider = {
        name: 'empty',
        complete: async (req) => ({ id: 'resp_0', object: 'chat.completion', created: 1, model: req.model, ...(choices ? { choices } : {}) }) as ChatResponse,
        stream: () => {
          throw new Error('not streamed here');
        },
      };
      const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
      const run = await guard.startRun({ agent: 'bot' });
      const result = await run.callModel(ask('hello'));
      expect([result.usage, result.attempts, result.model]).toEqual([{ inputTokens: 21, outputTokens: 0 }, 1, 'sim-small']);
    }
  });

  it('usage reported: the upstream usage is what is settled and returned', async () => {
    const { provider } = fixed('héllo wörld', { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello'));
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 3 });
    expect(result.costUsd).toBe(0.00000255);
    expect(events).toEqual([
      {
        type: 'call.allowed',
        at: START,
        runId: run.id,
        agent: 'bot',
        tenant: 'acme',
        action: 'invokeModel',
        resource: 'sim-small',
        usage: { inputTokens: 5, outputTokens: 3 },
        costUsd: 0.00000255,
        latencyMs: 0,
        attempts: 1,
        maxTokens: 4096,
        streamed: false,
      },
    ]);
  });

  it('the upstream request id reported by the provider goes on the event (the latest attempt)', async () => {
    let n = 0;
    const provider: ModelProvider = {
      name: 'ids',
      complete: async (req, opts) => {
        n++;
        opts.onUpstreamMeta?.({ requestId: `req_${n}` });
        opts.onUpstreamMeta?.({});
        if (n === 1) throw new ProviderError('busy', { status: 503 });
        return answer(req, 'ok', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({
      config: baseConfig({}, { defaults: { retry: [{ errorEquals: ['upstream.error'], intervalMs: 1, maxAttempts: 2 }] } } as never),
      providers: { sim: provider },
    });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello'));
    expect(result.attempts).toBe(2);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'call.allowed', attempts: 2, upstreamRequestId: 'req_2' });
  });
});

describe('callModel: failures', () => {
  it('a provider that throws a plain Error: upstream.error named after the model, settled as call.failed', async () => {
    const provider: ModelProvider = {
      name: 'broken',
      complete: async () => {
        throw new Error('socket hang up');
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const error = await failure(run.callModel(ask('hello')));
    expect(error.toJSON()).toEqual({ code: 'upstream.error', message: 'sim-small: socket hang up', details: {}, retryable: true });
    expect(events.map((e) => e.type)).toEqual(['call.failed']);
    expect(events[0]).toMatchObject({ resource: 'sim-small', code: 'upstream.error', message: 'sim-small: socket hang up', attempts: 1 });
  });

  it('the total timeout aborts the attempt: timeout.total (the abort reason), not the error the provider threw on abort', async () => {
    const clock = new FakeClock(START);
    const seen: AbortSignal[] = [];
    const provider: ModelProvider = {
      name: 'hangs',
      complete: (_req, opts) =>
        new Promise((_resolve, reject) => {
          seen.push(opts.signal!);
          opts.signal?.addEventListener('abort', () => reject(new Error('the provider saw an abort')));
        }),
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({
      config: baseConfig({ timeouts: { model: { totalMs: 5000 } } }),
      clock,
      providers: { sim: provider },
    });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const pending = failure(run.callModel(ask('hello')));
    await clock.advance(4999);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(false);
    await clock.advance(1);
    const error = await pending;
    expect(error.code).toBe('timeout.total');
    expect(seen[0]?.aborted).toBe(true);
    expect(events.map((e) => (e.type === 'call.failed' ? `${e.type}:${e.code}` : e.type))).toEqual(['call.failed:timeout.total']);
  });

  it("an attempt's timers are cleared when it returns: no timer left behind but the run's own", async () => {
    const clock = new FakeClock(START);
    const { provider } = fixed('ok');
    const guard = guardOf({ config: baseConfig(), clock, providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const before = clock.pending;
    await run.callModel(ask('hello'));
    expect(clock.pending).toBe(before);
  });

  it('a call in flight is counted: interruptCalls finds its run and the call fails with the given error', async () => {
    let called = false;
    const provider: ModelProvider = {
      name: 'hangs',
      complete: (_req, opts) =>
        new Promise((_resolve, reject) => {
          called = true;
          opts.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({ config: baseConfig(), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = failure(run.callModel(ask('hello')));
    for (let i = 0; i < 100 && !called; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(called).toBe(true);
    expect(guard.interruptCalls(guardError('kill.switch', 'the server is shutting down'))).toBe(1);
    expect((await pending).code).toBe('kill.switch');
  });

  it('a call that returned (or failed) is no longer counted: interruptCalls finds nothing and the run stays held', async () => {
    let fail = false;
    const provider: ModelProvider = {
      name: 'quick',
      complete: async (req) => {
        if (fail) throw new ProviderError('down', { status: 503 });
        return answer(req, 'ok', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({ config: baseConfig(), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('hello'));
    fail = true;
    expect((await failure(run.callModel(ask('again')))).code).toBe('upstream.error');
    expect(guard.interruptCalls(guardError('kill.switch', 'the server is shutting down'))).toBe(0);
    expect(guard.activeRuns).toBe(1);
  });
});

describe('callModel: the policy check per attempt, the signals let go', () => {
  it('each attempt is checked once: the first by the admission, each retry again with the context of that moment', async () => {
    const asked: Array<{ action: string; resource: string; at: number }> = [];
    const clock = new FakeClock(START);
    let n = 0;
    const provider: ModelProvider = {
      name: 'flaky',
      complete: async (req) => {
        if (++n < 3) throw new ProviderError('busy', { status: 503 });
        return answer(req, 'ok', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({
      config: baseConfig({}, { defaults: { retry: [{ errorEquals: ['upstream.error'], intervalMs: 1000, maxAttempts: 2, backoffRate: 1 }] } } as never),
      clock,
      providers: { sim: provider },
      authorizer: {
        authorize: (request) => {
          asked.push({ action: request.action, resource: request.resource, at: clock.now() });
          return { effect: 'allow', policies: [] } as never;
        },
      },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel(ask('hello'));
    for (let i = 0; i < 10 && n < 3; i++) await clock.advance(1000);
    expect((await pending).attempts).toBe(3);
    expect(asked).toEqual([
      { action: 'invokeModel', resource: 'sim-small', at: START },
      { action: 'invokeModel', resource: 'sim-small', at: START + 1000 },
      { action: 'invokeModel', resource: 'sim-small', at: START + 2000 },
    ]);
  });

  it("the caller's signal is let go once the call returns (no listener left on it)", async () => {
    const caller = new AbortController();
    const { provider } = fixed('ok');
    const guard = guardOf({ config: baseConfig(), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('hello'), { signal: caller.signal });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});

describe('callModel under catchers', () => {
  /** primary (on a provider that fails as told) catches into backup; backup's breaker fallback is backup2. */
  const catching = (catchers: unknown[], primary: Record<string, unknown> = {}, agent: Record<string, unknown> = {}) =>
    baseConfig(agent, {
      providers: { flaky: { kind: 'simulated' }, sim: { kind: 'simulated' } },
      models: {
        primary: { provider: 'flaky', inputPerMTok: 0.15, outputPerMTok: 0.6, catch: catchers, ...primary },
        backup: { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2, fallbacks: ['backup2'] },
        backup2: { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2 },
      },
    } as never);

  function flaky(fail: () => boolean) {
    const models: string[] = [];
    const provider: ModelProvider = {
      name: 'flaky',
      complete: async (req) => {
        models.push(req.model);
        if (fail()) throw new ProviderError('primary down', { status: 503 });
        return answer(req, 'from primary', { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    return { provider, models };
  }

  it("caught: the result is the fallback's, with the model asked for, servedBy the fallback and the chain", async () => {
    const { provider, models } = flaky(() => true);
    const backup = fixed('from backup', { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    const guard = guardOf({ config: catching([{ errorEquals: ['all'], next: 'backup' }]), providers: { flaky: provider, sim: backup.provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(result).toStrictEqual({
      response: answer(backup.requests[0]!, 'from backup', { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }),
      usage: { inputTokens: 3, outputTokens: 4, cachedInputTokens: undefined },
      costUsd: 0.0000057,
      maxTokens: 4096,
      attempts: 1,
      model: 'primary',
      servedBy: 'backup',
      caught: [{ from: 'primary', code: 'upstream.error', catcher: 0, next: 'backup' }],
    });
    expect(models).toEqual(['primary']);
    expect(backup.requests.map((r) => r.model)).toEqual(['backup']);
  });

  it('caught into a model whose breaker sends the call to its fallback: servedBy is the model that really served', async () => {
    const { provider } = flaky(() => true);
    const backup = fixed('from backup2', { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    const guard = guardOf({ config: catching([{ errorEquals: ['all'], next: 'backup' }]), providers: { flaky: provider, sim: backup.provider } });
    await guard.breakers.open('model:backup', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(result.model).toBe('primary');
    expect(result.servedBy).toBe('backup2');
    expect(result.caught).toEqual([{ from: 'primary', code: 'upstream.error', catcher: 0, next: 'backup' }]);
    expect(backup.requests.map((r) => r.model)).toEqual(['backup2']);
  });

  it('not caught (the primary serves): the result is exactly the plain one, no servedBy, no caught', async () => {
    const { provider, models } = flaky(() => false);
    const guard = guardOf({ config: catching([{ errorEquals: ['all'], next: 'backup' }]), providers: { flaky: provider, sim: createSimModel() } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(Object.keys(result).sort()).toEqual(['attempts', 'costUsd', 'maxTokens', 'model', 'response', 'usage']);
    expect(result.model).toBe('primary');
    expect(models).toEqual(['primary']);
  });

  it("an admission refusal with a catchable code (the model's own rate limit) is never caught", async () => {
    const { provider, models } = flaky(() => false);
    const backup = fixed('from backup');
    const guard = guardOf({
      config: catching([{ errorEquals: ['rate.limited'], next: 'backup' }], { rateLimits: { requestsPerMinute: 1 } }),
      clock: new FakeClock(START),
      providers: { flaky: provider, sim: backup.provider },
    });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('hello', 'primary'));
    const error = await failure(run.callModel(ask('again', 'primary')));
    expect(error.code).toBe('rate.limited');
    expect(error.details.caught).toBeUndefined();
    expect(models).toEqual(['primary']);
    expect(backup.requests).toEqual([]);
    expect(events.map((e) => `${e.type}:${(e as { resource?: string }).resource}`)).toEqual(['call.allowed:primary', 'call.refused:primary']);
  });
});

describe("callModel under catchers: the caller's cancel", () => {
  it('a caller that cancels during the call: the failure is not caught even when its code is catchable', async () => {
    const caller = new AbortController();
    const models: string[] = [];
    const provider: ModelProvider = {
      name: 'flaky',
      complete: async (req) => {
        models.push(req.model);
        // The caller gives up while the upstream fails: its reason (an upstream failure here) is what the call throws.
        caller.abort(new ProviderError('gave up', { status: 503 }));
        throw new ProviderError('primary down', { status: 503 });
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({
      config: baseConfig({}, {
        providers: { flaky: { kind: 'simulated' }, sim: { kind: 'simulated' } },
        models: {
          primary: { provider: 'flaky', inputPerMTok: 1, outputPerMTok: 1, catch: [{ errorEquals: ['all'], next: 'backup' }] },
          backup: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 },
        },
      } as never),
      providers: { flaky: provider, sim: createSimModel() },
    });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const error = await failure(run.callModel(ask('hello', 'primary'), { signal: caller.signal }));
    expect([error.code, error.message, error.details.caught]).toEqual(['upstream.error', 'primary: upstream failed (503): gave up', undefined]);
    expect(models).toEqual(['primary']);
    expect(events.map((e) => `${e.type}:${(e as { resource?: string }).resource}`)).toEqual(['call.failed:primary']);
  });
});

describe('callModel: no-progress detection', () => {
  it('identical outputs past maxIdenticalOutputs stop the run with loop.no_progress, settled once (no second failure event)', async () => {
    const { provider } = fixed('same answer', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
    const guard = guardOf({ config: baseConfig({ limits: { maxIdenticalOutputs: 1 } }), clock: new FakeClock(START), providers: { sim: provider } });
    const events = listen(guard);
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('one'));
    const error = await failure(run.callModel(ask('two')));
    expect(error.code).toBe('loop.no_progress');
    expect(events.map((e) => (e.type === 'call.allowed' ? e.type : `${e.type}:${(e as { code?: string }).code}`))).toEqual(['call.allowed', 'call.allowed']);
  });

  it('a response that proposes tool calls is not an output for the no-progress detector', async () => {
    const provider: ModelProvider = {
      name: 'tools',
      complete: async (req) =>
        ({
          ...answer(req, 'same answer', { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }),
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: 'same answer',
                tool_calls: [{ id: 'c1', type: 'function', function: { name: 'kb.search', arguments: '{}' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
        }) as ChatResponse,
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const guard = guardOf({
      config: baseConfig({ limits: { maxIdenticalOutputs: 1, maxIdenticalToolCalls: 100 } }),
      clock: new FakeClock(START),
      providers: { sim: provider },
    });
    const run = await guard.startRun({ agent: 'bot' });
    for (const text of ['one', 'two', 'three']) expect((await run.callModel(ask(text))).attempts).toBe(1);
  });
});

describe('callModel: passthrough (the request in another API)', () => {
  const body = { model: 'whatever-the-agent-said', input: 'hello', store: true, max_output_tokens: 99_999, instructions: 'be brief' };

  it('a provider that speaks the Responses API gets the original body with the serving model, the clamped cap, stream false, store false', async () => {
    const bodies: Record<string, unknown>[] = [];
    const native = {
      id: 'resp_9',
      created_at: 7,
      model: 'real-upstream-name',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi there' }] }],
      usage: { input_tokens: 4, output_tokens: 2, total_tokens: 6 },
    };
    const chatCalls: ChatRequest[] = [];
    const provider: ModelProvider = {
      name: 'responses',
      complete: async (req) => {
        chatCalls.push(req);
        return answer(req, 'chat');
      },
      stream: () => {
        throw new Error('not streamed here');
      },
      responses: {
        create: async (b) => {
          bodies.push(b);
          return native;
        },
        stream: () => {
          throw new Error('not streamed here');
        },
      },
    };
    const guard = guardOf({
      config: baseConfig({}, {
        models: { 'sim-small': { provider: 'sim', upstreamModel: 'real-upstream-name', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096 } },
      } as never),
      clock: new FakeClock(START),
      providers: { sim: provider },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hello'), max_tokens: 100 }, { passthrough: { api: 'responses', body } });
    expect(bodies).toEqual([{ model: 'real-upstream-name', input: 'hello', store: false, max_output_tokens: 100, instructions: 'be brief', stream: false }]);
    expect(chatCalls).toEqual([]);
    expect(result.response.choices[0]?.message.content).toBe('hi there');
    expect((result.response as ChatResponse & { native?: unknown }).native).toBe(native);
    expect(result.usage).toEqual({ inputTokens: 4, outputTokens: 2 });
  });

  it('a chat-only provider gets the chat view, as for any call', async () => {
    const { provider, requests } = fixed('chat answer');
    const guard = guardOf({ config: baseConfig(), clock: new FakeClock(START), providers: { sim: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hello'), max_tokens: 100 }, { passthrough: { api: 'responses', body } });
    expect(requests).toEqual([{ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }], stream: false, max_tokens: 100 }]);
    expect(result.response.choices[0]?.message.content).toBe('chat answer');
  });
});
