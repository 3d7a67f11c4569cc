/**
 * streamModel (src/runtime/stream-model.ts) against an upstream the test scripts chunk by chunk: one
 * that ignores `max_tokens`, fails or stalls before or after its first chunk, rejects its pending read
 * the moment it sees the abort (as a socket does), or has no `return()`. Exact values throughout: what
 * the caller received, what the ledger holds, what was reported, and that the call is no longer in flight.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  createGuard,
  type GuardError,
  type GuardEvent,
  type ModelProvider,
  type ProviderCallOptions,
  ProviderError,
} from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

/** Waits until the upstream's abort: the pending read then fails as a closed socket does. */
const STALL = Symbol('stall');
type Step = string | ChatChunk | Error | typeof STALL;

const text = (content: string): ChatChunk => ({
  id: 'chunk',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'up-model',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

const usageChunk = (prompt: number, completion: number): ChatChunk => ({
  id: 'chunk',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'up-model',
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});

const toolCall = (args: string): ChatChunk => ({
  id: 'chunk',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'up-model',
  choices: [
    { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: args } }] }, finish_reason: null },
  ],
});

/**
 * A provider whose streams follow a script per attempt (the last script repeats). Its iterator is a
 * plain object (not a generator): a read pending at the abort is rejected in the abort listener itself,
 * and with `bare` it has no `return()` at all, as a minimal AsyncIterator may.
 */
class ScriptedUpstream implements ModelProvider {
  readonly name = 'up';
  readonly requests: ChatRequest[] = [];
  aborts = 0;
  returned = 0;
  /** Chunks handed to the guard. */
  pulled = 0;
  constructor(
    private readonly scripts: Step[][],
    private readonly options: { bare?: boolean } = {},
  ) {}

  complete(): Promise<ChatResponse> {
    return Promise.reject(new Error('streams only'));
  }

  stream(req: ChatRequest, { signal }: ProviderCallOptions): AsyncIterable<ChatChunk> {
    this.requests.push(req);
    const steps = [...(this.scripts[this.requests.length - 1] ?? this.scripts.at(-1)!)];
    let pending: ((error: Error) => void) | undefined;
    signal.addEventListener(
      'abort',
      () => {
        this.aborts++;
        pending?.(new Error('socket closed'));
      },
      { once: true },
    );
    const iterator: AsyncIterator<ChatChunk> = {
      next: () => {
        const step = steps.shift();
        if (step === undefined) return Promise.resolve({ done: true, value: undefined });
        if (step === STALL) return new Promise((_, reject) => (pending = reject));
        if (step instanceof Error) return Promise.reject(step);
        this.pulled++;
        return Promise.resolve({ done: false, value: typeof step === 'string' ? text(step) : step });
      },
    };
    if (!this.options.bare) {
      iterator.return = () => {
        this.returned++;
        return Promise.resolve({ done: true, value: undefined });
      };
    }
    return { [Symbol.asyncIterator]: () => iterator };
  }
}

/** 1 $/MTok in and 2 $/MTok out: 1 000 and 2 000 nano-dollars a token. */
const usd = (input: number, output: number) => (input * 1000 + output * 2000) / 1e9;

function config(agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return baseConfig(agent, {
    providers: { up: { kind: 'simulated' }, sim: { kind: 'simulated' } },
    models: {
      'up-model': { provider: 'up', inputPerMTok: 1, outputPerMTok: 2 },
      primary: { provider: 'up', inputPerMTok: 1, outputPerMTok: 2, catch: [{ errorEquals: ['upstream.error'], next: 'backup' }] },
      backup: { provider: 'sim', inputPerMTok: 3, outputPerMTok: 4, fallbacks: ['spare'] },
      spare: { provider: 'sim', inputPerMTok: 5, outputPerMTok: 6 },
    },
    ...extra,
  } as never);
}

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'up-model', messages: [{ role: 'user', content }], ...extra });

async function setup(upstream: ScriptedUpstream, agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const guard = createGuard({ config: config(agent, extra), clock, providers: { up: upstream } });
  const events: GuardEvent[] = [];
  guard.on((e) => {
    if (e.type.startsWith('call.') || e.type === 'retry') events.push(e);
  });
  const run = await guard.startRun({ agent: 'bot' });
  return { clock, guard, run, events };
}

/** Reads the stream to its end or failure: the texts received and the error, if any. */
async function drain(stream: AsyncIterable<ChatChunk>): Promise<{ texts: string[]; error?: GuardError }> {
  const texts: string[] = [];
  try {
    for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
    return { texts };
  } catch (error) {
    return { texts, error: error as GuardError };
  }
}

const summary = (events: GuardEvent[]) =>
  events.map((e) => `${e.type}:${(e as { resource?: string }).resource}${'code' in e ? `:${e.code}` : ''}${'attempts' in e ? `#${e.attempts}` : ''}`);

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: GuardError) => e,
  );

describe('the output-token cut: an upstream that ignores max_tokens', () => {
  it('is cut with limit.tokens once the count exceeds the cap plus 16; the client got what was under it, the reserved cap is paid', async () => {
    // max_tokens 4: a one-character chunk counts one token, so the 20th chunk (4 + 16) still flows and the 21st is cut.
    const upstream = new ScriptedUpstream([Array.from({ length: 30 }, () => 'a')]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('spell a', { max_tokens: 4 }), { inputTokens: 10 });
    expect(stream.maxTokens).toBe(4);
    expect(upstream.requests[0]!.max_tokens).toBe(4);
    const { texts, error } = await drain(stream);
    expect(texts).toHaveLength(20);
    expect(error?.code).toBe('limit.tokens');
    expect(error?.message).toBe('the stream exceeded the 4 output tokens reserved for it');
    expect(error?.details).toMatchObject({ limit: 4, used: 21 });
    await expect(stream.result).rejects.toBe(error);
    // The upstream was stopped right there: one chunk past the cut was read, none after.
    expect(upstream.aborts).toBe(1);
    expect(upstream.pulled).toBe(21);
    // What flowed is settled at the cap it was reserved for (21 counted, 4 reserved).
    const usage = await run.usage();
    expect(usage).toMatchObject({ steps: 1, inputTokens: 10, outputTokens: 4, reservedCostUsd: 0, costUsd: usd(10, 4) });
    expect(summary(events)).toEqual(['call.failed:up-model:limit.tokens#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 4 }, costUsd: usd(10, 4) });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a stream of exactly cap + 16 tokens is not cut', async () => {
    const upstream = new ScriptedUpstream([[...Array.from({ length: 20 }, () => 'a'), usageChunk(10, 20)]]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('spell a', { max_tokens: 4 }), { inputTokens: 10 });
    const { texts, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(texts).toHaveLength(21);
    const result = await stream.result;
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 20, cachedInputTokens: undefined });
    expect(result.content).toBe('a'.repeat(20));
    expect(summary(events)).toEqual(['call.allowed:up-model#1']);
    await guard.close();
  });
});

describe('what a completed stream settles and reports', () => {
  it("the upstream's reported usage is what is settled and returned, with the cost, cap, attempts and content", async () => {
    // 16 bytes of content, 2 chunks: counted would be 16; the upstream says 7 output tokens.
    const upstream = new ScriptedUpstream([['abcdefgh', 'ijklmnop', usageChunk(11, 7)]]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('letters', { max_tokens: 100 }), { inputTokens: 20 });
    expect(stream.model).toBe('up-model');
    expect(run.handle.active).toBe(1);
    const { texts } = await drain(stream);
    expect(texts).toEqual(['abcdefgh', 'ijklmnop', '']);
    const result = await stream.result;
    expect(result).toEqual({
      usage: { inputTokens: 11, outputTokens: 7, cachedInputTokens: undefined },
      costUsd: usd(11, 7),
      maxTokens: 100,
      attempts: 1,
      model: 'up-model',
      content: 'abcdefghijklmnop',
    });
    expect(await run.usage()).toMatchObject({ steps: 1, inputTokens: 11, outputTokens: 7, costUsd: usd(11, 7), reservedCostUsd: 0 });
    expect(summary(events)).toEqual(['call.allowed:up-model#1']);
    expect(events[0]).toMatchObject({ streamed: true, maxTokens: 100, usage: { inputTokens: 11, outputTokens: 7 }, costUsd: usd(11, 7) });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('without reported usage, the output is counted a token a byte (16), capped at max_tokens', async () => {
    const upstream = new ScriptedUpstream([['abcdefgh', 'ijklmnop']]);
    const { guard, run } = await setup(upstream);
    const stream = await run.streamModel(ask('letters', { max_tokens: 100 }), { inputTokens: 20 });
    await drain(stream);
    expect((await stream.result).usage).toEqual({ inputTokens: 20, outputTokens: 16 });
    const capped = await run.streamModel(ask('letters again', { max_tokens: 10 }), { inputTokens: 20 });
    await drain(capped);
    expect((await capped.result).usage).toEqual({ inputTokens: 20, outputTokens: 10 });
    await guard.close();
  });

  it('an upstream that ends without a chunk settles an empty answer', async () => {
    const upstream = new ScriptedUpstream([[]]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('nothing'), { inputTokens: 5 });
    expect(stream).not.toHaveProperty('passedThrough');
    expect((await drain(stream)).texts).toEqual([]);
    expect(await stream.result).toMatchObject({ usage: { inputTokens: 5, outputTokens: 0 }, costUsd: usd(5, 0), content: '' });
    expect(summary(events)).toEqual(['call.allowed:up-model#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it("an upstream iterator's return value is not a chunk", async () => {
    const returning = (value: ChatChunk[]): ModelProvider => ({
      name: 'up',
      complete: () => Promise.reject(new Error('streams only')),
      stream: () => ({
        [Symbol.asyncIterator]: () => {
          const queue = [...value];
          return { next: async () => (queue.length > 1 ? { done: false, value: queue.shift()! } : { done: true, value: queue.shift() }) };
        },
      }),
    });
    for (const [script, want] of [
      [[text('only')], []],
      [[text('one'), text('returned')], ['one']],
    ] as const) {
      const guard = createGuard({ config: config(), clock: new FakeClock(), providers: { up: returning([...script]) } });
      const run = await guard.startRun({ agent: 'bot' });
      const stream = await run.streamModel(ask('x'));
      expect((await drain(stream)).texts).toEqual(want);
      expect((await stream.result).content).toBe(want.join(''));
      await guard.close();
    }
  });

  it('a first chunk that carries the upstream’s own event marks the stream as passed through', async () => {
    const upstream = new ScriptedUpstream([[{ ...text('hi'), native: { type: 'response.output_text.delta' } }]]);
    const { guard, run } = await setup(upstream);
    const stream = await run.streamModel(ask('hi'));
    expect(stream.passedThrough).toBe(true);
    await drain(stream);
    await guard.close();
  });

  it('an iterator without return() is fine: at the end, on a cut, and when the open fails', async () => {
    const upstream = new ScriptedUpstream([['ab', 'cd'], ['ab', new ProviderError('reset', { status: 503 })], [new ProviderError('bad', { status: 400 })]], {
      bare: true,
    });
    const { guard, run, events } = await setup(upstream);
    const ok = await run.streamModel(ask('one'), { inputTokens: 5 });
    expect(await drain(ok)).toEqual({ texts: ['ab', 'cd'] });
    expect((await ok.result).usage.outputTokens).toBe(4);
    const cut = await run.streamModel(ask('two'), { inputTokens: 5 });
    const { texts, error } = await drain(cut);
    expect(texts).toEqual(['ab']);
    expect(error?.code).toBe('upstream.error');
    expect(error?.message).toBe('up-model: upstream failed (503): reset');
    const refused = await failure(run.streamModel(ask('three'), { inputTokens: 5 }));
    expect(refused?.code).toBe('request.invalid');
    expect(summary(events)).toEqual(['call.allowed:up-model#1', 'call.failed:up-model:upstream.error#1', 'call.failed:up-model:request.invalid#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });
});

describe('retried until the first chunk, never after', () => {
  const retry = (codes: string[]) => ({ defaults: { retry: [{ errorEquals: codes, intervalMs: 1000, maxAttempts: 2, backoffRate: 1 }] } });

  it('a failure before the first chunk is retried; the result and the event count the attempts', async () => {
    const upstream = new ScriptedUpstream([[new ProviderError('busy', { status: 503 })], ['fine', usageChunk(3, 1)]]);
    const { clock, guard, run, events } = await setup(upstream, {}, retry(['upstream.error']));
    const pending = run.streamModel(ask('hello'));
    await clock.advance(1000);
    const stream = await pending;
    expect((await drain(stream)).texts).toEqual(['fine', '']);
    expect(await stream.result).toMatchObject({ attempts: 2, usage: { inputTokens: 3, outputTokens: 1 } });
    expect(upstream.requests).toHaveLength(2);
    expect(summary(events)).toEqual(['retry:up-model:upstream.error', 'call.allowed:up-model#2']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a first-token timeout is retried, and the stalled attempt’s upstream is aborted', async () => {
    const upstream = new ScriptedUpstream([[STALL], ['late', 'but fine']]);
    const { clock, guard, run, events } = await setup(upstream, { timeouts: { model: { firstTokenMs: 3000 } } }, retry(['timeout.first_token']));
    const pending = run.streamModel(ask('hello'));
    await clock.advance(2999);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.aborts).toBe(0);
    await clock.advance(1);
    expect(upstream.aborts).toBe(1);
    await clock.advance(1000);
    const stream = await pending;
    expect((await drain(stream)).texts).toEqual(['late', 'but fine']);
    expect((await stream.result).attempts).toBe(2);
    expect(summary(events)).toEqual(['retry:up-model:timeout.first_token', 'call.allowed:up-model#2']);
    await guard.close();
  });

  it('retries exhausted before the first chunk: the last error, every attempt counted, nothing in flight, nothing paid', async () => {
    const upstream = new ScriptedUpstream([[new ProviderError('down', { status: 503 })]]);
    const { clock, guard, run, events } = await setup(upstream, {}, retry(['upstream.error']));
    const pending = failure(run.streamModel(ask('hello'), { inputTokens: 10 }));
    await clock.advance(1000);
    await clock.advance(1000);
    const error = await pending;
    expect(error?.code).toBe('upstream.error');
    expect(error?.details).toMatchObject({ attempts: 3, retriesSpent: true });
    expect(upstream.requests).toHaveLength(3);
    expect(summary(events)).toEqual(['retry:up-model:upstream.error', 'retry:up-model:upstream.error', 'call.failed:up-model:upstream.error#3']);
    expect(await run.usage()).toMatchObject({ steps: 1, outputTokens: 0, costUsd: 0, reservedCostUsd: 0 });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a failure after the first chunk is not retried: the caller gets it, what flowed is paid', async () => {
    const upstream = new ScriptedUpstream([['abcd', 'efgh', new ProviderError('reset', { status: 503 })], ['never']]);
    const { guard, run, events } = await setup(upstream, {}, retry(['upstream.error']));
    const stream = await run.streamModel(ask('hello', { max_tokens: 100 }), { inputTokens: 10 });
    const { texts, error } = await drain(stream);
    expect(texts).toEqual(['abcd', 'efgh']);
    expect(error?.code).toBe('upstream.error');
    expect(error?.message).toBe('up-model: upstream failed (503): reset');
    await expect(stream.result).rejects.toBe(error);
    expect(upstream.requests).toHaveLength(1);
    expect(summary(events)).toEqual(['call.failed:up-model:upstream.error#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 8 }, costUsd: usd(10, 8) });
    expect(await run.usage()).toMatchObject({ steps: 1, outputTokens: 8, costUsd: usd(10, 8), reservedCostUsd: 0 });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a rejected request (400) before or after the first chunk is request.invalid, not retried', async () => {
    const upstream = new ScriptedUpstream([[new ProviderError('no such field', { status: 400 })], ['ok', new ProviderError('bad tool', { status: 400 })]]);
    const { guard, run, events } = await setup(upstream, {}, retry(['upstream.error']));
    const before = await failure(run.streamModel(ask('one')));
    expect(before?.code).toBe('request.invalid');
    expect(before?.message).toBe('up-model: the upstream rejected the request (400): no such field');
    const stream = await run.streamModel(ask('two'));
    const { error } = await drain(stream);
    expect(error?.code).toBe('request.invalid');
    expect(error?.message).toBe('up-model: the upstream rejected the request (400): bad tool');
    expect(summary(events)).toEqual(['call.failed:up-model:request.invalid#1', 'call.failed:up-model:request.invalid#1']);
    await guard.close();
  });

  it('a retry passes the policy check again, streamed too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmguard-stream-mutants-'));
    try {
      const global = join(dir, 'hours.cedar');
      writeFileSync(
        global,
        `@id("no-up-model-after-11")
forbid (principal, action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"up-model")
when { context.hourUtc >= 11 };
`,
      );
      const upstream = new ScriptedUpstream([[new ProviderError('busy', { status: 503 })], ['never']]);
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 59, 59));
      const guard = createGuard({
        config: config(
          {},
          { policies: { global }, defaults: { retry: [{ errorEquals: ['upstream.error'], intervalMs: 2000, maxAttempts: 2, backoffRate: 1 }] } },
        ),
        clock,
        providers: { up: upstream },
      });
      const run = await guard.startRun({ agent: 'bot' });
      const pending = failure(run.streamModel(ask('hello')));
      await clock.advance(5000);
      expect((await pending)?.code).toBe('policy.denied');
      expect(upstream.requests).toHaveLength(1);
      expect(run.handle.active).toBe(0);
      await guard.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in shadow mode, each attempt actually made is checked (and reported) once: two attempts, two policy.shadow events', async () => {
    const upstream = new ScriptedUpstream([[new ProviderError('busy', { status: 503 })], ['fine']]);
    const clock = new FakeClock();
    const guard = createGuard({
      config: config({ allow: { models: ['backup'], tools: ['*'] }, policyMode: 'shadow' }, retry(['upstream.error'])),
      clock,
      providers: { up: upstream },
    });
    const shadows: GuardEvent[] = [];
    guard.on((e) => {
      if (e.type === 'policy.shadow') shadows.push(e);
    });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.streamModel(ask('hello'));
    await clock.advance(1000);
    const stream = await pending;
    expect((await drain(stream)).texts).toEqual(['fine']);
    expect((await stream.result).attempts).toBe(2);
    expect(upstream.requests).toHaveLength(2);
    expect(shadows).toHaveLength(2);
    expect(shadows[0]).toMatchObject({ resource: 'up-model', effect: 'deny' });
    await guard.close();
  });

  it('a stream refused at admission is never opened and is not caught', async () => {
    const upstream = new ScriptedUpstream([['never']]);
    const { guard, run, events } = await setup(upstream, { allow: { models: ['up-model'], tools: ['*'] } }, {});
    const error = await failure(run.streamModel({ ...ask('hello'), model: 'primary' }));
    expect(error?.code).toBe('policy.denied');
    expect(error?.details.caught).toBeUndefined();
    expect(upstream.requests).toHaveLength(0);
    expect(summary(events)).toEqual(['call.refused:primary:policy.denied']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });
});

describe('cuts: the run stopped, the timers, the caller', () => {
  it('a kill mid-stream cuts it with kill.switch and settles what flowed, though the upstream read fails first', async () => {
    const upstream = new ScriptedUpstream([['abcd', 'efgh', STALL]]);
    const { clock, guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('hello', { max_tokens: 100 }), { inputTokens: 10 });
    const consumed = drain(stream);
    await clock.advance(10);
    await guard.kill('tenant:acme', 'runaway spend');
    const { texts, error } = await consumed;
    expect(texts).toEqual(['abcd', 'efgh']);
    expect(error?.code).toBe('kill.switch');
    await expect(stream.result).rejects.toBe(error);
    expect(upstream.aborts).toBe(1);
    expect(upstream.returned).toBe(1);
    expect(summary(events)).toEqual(['call.failed:up-model:kill.switch#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 8 }, costUsd: usd(10, 8) });
    expect(await run.usage()).toMatchObject({ steps: 1, outputTokens: 8, costUsd: usd(10, 8), reservedCostUsd: 0 });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('the idle timeout cuts a stalled stream with its own code (not the socket’s error), once', async () => {
    const upstream = new ScriptedUpstream([['abcd', STALL]]);
    const { clock, guard, run, events } = await setup(upstream, { timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } });
    const stream = await run.streamModel(ask('hello', { max_tokens: 100 }), { inputTokens: 10 });
    const consumed = drain(stream);
    await clock.advance(1999);
    expect(upstream.aborts).toBe(0);
    await clock.advance(1);
    const { texts, error } = await consumed;
    expect(texts).toEqual(['abcd']);
    expect(error?.code).toBe('timeout.idle');
    expect(error?.message).toBe('model call exceeded its idle timeout of 2000 ms');
    expect(summary(events)).toEqual(['call.failed:up-model:timeout.idle#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 4 } });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a first-token timeout reports its own code, not the socket’s error', async () => {
    const upstream = new ScriptedUpstream([[STALL]]);
    const { clock, guard, run, events } = await setup(upstream, { timeouts: { model: { firstTokenMs: 3000 } } });
    const pending = failure(run.streamModel(ask('hello')));
    await clock.advance(3000);
    const error = await pending;
    expect(error?.code).toBe('timeout.first_token');
    expect(upstream.returned).toBe(1);
    expect(summary(events)).toEqual(['call.failed:up-model:timeout.first_token#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('once the stream has ended its timers are gone: time passing aborts nothing', async () => {
    const upstream = new ScriptedUpstream([['abcd', 'efgh']]);
    const { clock, guard, run } = await setup(upstream, { timeouts: { model: { idleMs: 2000, firstTokenMs: 3000, totalMs: 10_000 } } });
    const before = clock.pending;
    const stream = await run.streamModel(ask('hello'));
    expect(clock.pending).toBeGreaterThan(before);
    await drain(stream);
    await stream.result;
    expect(clock.pending).toBe(before);
    await clock.advance(60_000);
    expect(upstream.aborts).toBe(0);
    expect(upstream.returned).toBe(1);
    await guard.close();
  });

  it("the caller's abort before the first chunk is not caught by the model's catcher", async () => {
    const upstream = new ScriptedUpstream([[STALL]]);
    const { clock, guard, run, events } = await setup(upstream);
    const caller = new AbortController();
    const pending = failure(run.streamModel({ ...ask('hello'), model: 'primary' }, { signal: caller.signal }));
    await clock.advance(10);
    caller.abort(new Error('the user left'));
    const error = await pending;
    expect(error?.code).toBe('upstream.error');
    expect(error?.message).toBe('primary: the user left');
    expect(error?.details.caught).toBeUndefined();
    expect(summary(events)).toEqual(['call.failed:primary:upstream.error#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });
});

describe('the consumer stops reading', () => {
  it('breaking out settles exactly what the consumer received, without reading further', async () => {
    const upstream = new ScriptedUpstream([['abcdefgh', 'ijklmnop', 'qrstuvwx', 'yz']]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('hello', { max_tokens: 100 }), { inputTokens: 10 });
    const texts: string[] = [];
    for await (const chunk of stream) {
      texts.push(chunk.choices[0]!.delta.content!);
      if (texts.length === 2) break;
    }
    await expect(stream.result).rejects.toMatchObject({ code: 'request.invalid', message: 'the consumer closed the stream' });
    expect(upstream.pulled).toBe(2);
    expect(upstream.aborts).toBe(1);
    // 16 bytes flowed, 2 chunks (an estimate of 4): a token a byte.
    expect(summary(events)).toEqual(['call.failed:up-model:request.invalid#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 16 }, costUsd: usd(10, 16) });
    expect(await run.usage()).toMatchObject({ steps: 1, outputTokens: 16, reservedCostUsd: 0 });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('two close() calls at once before any read settle the first chunk only, once', async () => {
    const upstream = new ScriptedUpstream([['abcdefgh', 'ijklmnop', 'qrstuvwx']]);
    const { guard, run, events } = await setup(upstream);
    const stream = await run.streamModel(ask('hello', { max_tokens: 100 }), { inputTokens: 10 });
    await Promise.all([stream.close(), stream.close()]);
    expect(upstream.pulled).toBe(1);
    expect(summary(events)).toEqual(['call.failed:up-model:request.invalid#1']);
    expect(events[0]).toMatchObject({ usage: { inputTokens: 10, outputTokens: 8 } });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('the iterator keeps the protocol: return() and throw() close and settle, it is its own iterable, and disposing closes it', async () => {
    const upstream = new ScriptedUpstream([['abcd', 'efgh', 'ijkl']]);
    const { guard, run } = await setup(upstream);

    const returned = await run.streamModel(ask('one'));
    const it1 = returned[Symbol.asyncIterator]() as AsyncGenerator<ChatChunk>;
    expect(it1[Symbol.asyncIterator]()).toBe(it1);
    expect(() => returned[Symbol.asyncIterator]()).toThrow(new TypeError('a guarded stream can be iterated only once'));
    expect(await it1.next()).toMatchObject({ done: false, value: { choices: [{ delta: { content: 'abcd' } }] } });
    expect(await it1.return!('bye')).toEqual({ done: true, value: 'bye' });
    await expect(returned.result).rejects.toMatchObject({ code: 'request.invalid' });

    const thrown = await run.streamModel(ask('two'));
    const it2 = thrown[Symbol.asyncIterator]();
    const reason = new Error('stop here');
    await expect(it2.throw!(reason)).rejects.toBe(reason);
    await expect(thrown.result).rejects.toMatchObject({ code: 'request.invalid' });

    const disposed = await run.streamModel(ask('three'));
    const it3 = disposed[Symbol.asyncIterator]() as AsyncGenerator<ChatChunk> & AsyncDisposable;
    await it3[Symbol.asyncDispose]();
    await expect(disposed.result).rejects.toMatchObject({ code: 'request.invalid' });

    expect(upstream.aborts).toBe(3);
    expect(run.handle.active).toBe(0);
    expect((await run.usage()).reservedCostUsd).toBe(0);
    await guard.close();
  });
});

describe('no-progress detection on streams', () => {
  it('the same text streamed again past maxIdenticalOutputs stops the run; it is charged, reported once, and both the reader and the result get it', async () => {
    const upstream = new ScriptedUpstream([['same answer']]);
    const { guard, run, events } = await setup(upstream, { limits: { maxIdenticalOutputs: 1 } });
    const first = await run.streamModel(ask('one'), { inputTokens: 5 });
    expect((await drain(first)).error).toBeUndefined();
    await first.result;
    const second = await run.streamModel(ask('two'), { inputTokens: 5 });
    const { texts, error } = await drain(second);
    expect(texts).toEqual(['same answer']);
    expect(error?.code).toBe('loop.no_progress');
    await expect(second.result).rejects.toBe(error);
    expect(summary(events)).toEqual(['call.allowed:up-model#1', 'call.allowed:up-model#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('tool-call streams are left to the repeated-call detector', async () => {
    const upstream = new ScriptedUpstream([[toolCall('{"q":1}')], [toolCall('{"q":2}')]]);
    const { guard, run, events } = await setup(upstream, { limits: { maxIdenticalOutputs: 1 } });
    for (const content of ['one', 'two']) {
      const stream = await run.streamModel(ask(content), { inputTokens: 5 });
      expect((await drain(stream)).error).toBeUndefined();
      expect((await stream.result).content).toBe('');
    }
    expect(summary(events)).toEqual(['call.allowed:up-model#1', 'call.allowed:up-model#1']);
    await guard.close();
  });
});

describe('a stream served by a catcher', () => {
  it('says who served it on the stream and the result, with what was caught; a breaker fallback of the next model is named', async () => {
    const upstream = new ScriptedUpstream([[new ProviderError('down', { status: 503 })]]);
    const { guard, run, events } = await setup(upstream);
    await guard.breakers.open('model:backup', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const stream = await run.streamModel({ ...ask('hello'), model: 'primary' });
    expect(stream.model).toBe('primary');
    expect(stream.servedBy).toBe('spare');
    const { texts } = await drain(stream);
    const result = await stream.result;
    expect(result.model).toBe('primary');
    expect(result.servedBy).toBe('spare');
    expect(result.caught).toEqual([{ from: 'primary', code: 'upstream.error', catcher: 0, next: 'backup' }]);
    expect(result.attempts).toBe(1);
    expect(result.content).toBe(texts.join(''));
    expect(result.costUsd).toBe((result.usage.inputTokens * 5000 + result.usage.outputTokens * 6000) / 1e9);
    expect(summary(events)).toEqual(['call.failed:primary:upstream.error#1', 'call.allowed:backup#1']);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });
});
