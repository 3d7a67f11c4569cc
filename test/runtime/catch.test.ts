import { describe, expect, it } from 'vitest';
import {
  createGuard,
  createSimModel,
  type ChatChunk,
  ProviderError,
  type ChatRequest,
  type GuardError,
  type GuardEvent,
  type ModelProvider,
} from '../../src/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 12 item 4: Catch, as in Step Functions (aws-semantics.md §1, vectors S1, S5, S6, S8). After a
 * model's retriers are exhausted (or none matched), the first matching catcher calls its `next` model
 * through the full admission; the caught call and the fallback are each reported on their own.
 */
const catching = (catchers: unknown[], retry: unknown[] = [], extra: Record<string, unknown> = {}) =>
  baseConfig({}, {
    providers: { flaky: { kind: 'simulated' }, sim: { kind: 'simulated' } },
    models: {
      primary: { provider: 'flaky', inputPerMTok: 0.15, outputPerMTok: 0.6, catch: catchers },
      backup: { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2 },
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 },
    },
    defaults: { retry },
    ...extra,
  } as never);

/** A provider that throws the scripted errors in order, then answers as the simulator does. */
function scripted(errors: Array<() => Error>, calls: string[] = []): ModelProvider {
  const sim = createSimModel();
  let n = 0;
  const next = (req: ChatRequest) => {
    calls.push(req.model);
    const make = errors[n++];
    return make ? Promise.reject(make()) : undefined;
  };
  return {
    name: 'flaky',
    complete: (req, opts) => next(req) ?? sim.complete(req, opts),
    stream: (req, opts) => {
      const failed = next(req);
      if (!failed) return sim.stream(req, opts);
      return (async function* () {
        const never: ChatChunk[] = await failed;
        yield* never;
      })();
    },
  };
}

function record(guard: ReturnType<typeof createGuard>): GuardEvent[] {
  const events: GuardEvent[] = [];
  guard.on((e) => {
    if (e.type.startsWith('call.')) events.push(e);
  });
  return events;
}

const summary = (events: GuardEvent[]) =>
  events.map((e) => `${e.type}:${(e as { resource?: string }).resource}${'code' in e && e.code ? `:${e.code}` : ''}${'attempts' in e ? `#${e.attempts}` : ''}`);

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );

describe('Catch vectors (aws-semantics.md §1)', () => {
  it('S1: I=3, MA=3, BR=2, errors E,E,E,E: waits 3,6,12, the 4th error exhausts the retrier and the catcher calls the next model', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const guard = createGuard({
      config: catching([{ errorEquals: ['all'], next: 'backup' }], [{ errorEquals: ['upstream.error'], intervalMs: 3000, maxAttempts: 3, backoffRate: 2 }]),
      clock,
      providers: { flaky: createSimModel({ scenario: 'fail 1 503', clock }) },
    });
    const events = record(guard);
    const waits: number[] = [];
    guard.on((e) => {
      if (e.type === 'retry') waits.push((e as { delayMs: number }).delayMs);
    });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel(ask('hello', 'primary'));
    for (let i = 0; i < 40 && events.length < 2; i++) await clock.advance(1000);
    const result = await pending;
    expect(result.model).toBe('primary');
    expect(result.servedBy).toBe('backup');
    expect(result.response.choices[0]?.message.content).toBeTruthy();
    expect(result.caught).toEqual([{ from: 'primary', code: 'upstream.error', catcher: 0, next: 'backup' }]);
    expect(summary(events)).toEqual(['call.failed:primary:upstream.error#4', 'call.allowed:backup#1']);
    expect(waits).toEqual([3000, 6000, 12000]);
    await guard.close();
  });

  it('S5: R1{A,B; MA=2}, R2{C; I=5}, Catch all → Z; errors A,B,C,B: R1 is exhausted at the 4th error and Z serves', async () => {
    const calls: string[] = [];
    const A = () => new ProviderError('A', { status: 503 });
    const B = () => new ProviderError('B', { status: 429, code: 'rate.limited' });
    const C = () => new ProviderError('C', { status: 504, code: 'timeout.first_token' });
    const guard = createGuard({
      config: catching(
        [{ errorEquals: ['all'], next: 'backup' }],
        [
          { errorEquals: ['upstream.error', 'rate.limited'], intervalMs: 1, backoffRate: 2, maxAttempts: 2 },
          { errorEquals: ['timeout.first_token'], intervalMs: 5 },
        ],
      ),
      providers: { flaky: scripted([A, B, C, B, A], calls) },
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(calls).toHaveLength(4);
    expect(result.servedBy).toBe('backup');
    expect(summary(events)).toEqual(['call.failed:primary:rate.limited#4', 'call.allowed:backup#1']);
    await guard.close();
  });

  it('S6: [{timeout, MA=0}, {all}]: a timeout is not retried and goes straight to the catcher', async () => {
    const calls: string[] = [];
    const guard = createGuard({
      config: catching(
        [{ errorEquals: ['timeout.*'], next: 'backup' }],
        [
          { errorEquals: ['timeout.first_token'], maxAttempts: 0 },
          { errorEquals: ['all'], intervalMs: 1 },
        ],
      ),
      providers: { flaky: scripted([() => new ProviderError('slow', { status: 504, code: 'timeout.first_token' })], calls) },
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(calls).toEqual(['primary']);
    expect(result.servedBy).toBe('backup');
    expect(summary(events)).toEqual(['call.failed:primary:timeout.first_token#1', 'call.allowed:backup#1']);
    await guard.close();
  });

  it('S8: a catch-all does not catch what escapes States.ALL: a rejected request (413) fails the call, the fallback is never called', async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['all'], next: 'backup' }]),
      providers: { flaky: createSimModel({ scenario: 'fail 1 413' }) },
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello', 'primary')))).toBe('request.invalid');
    expect(summary(events)).toEqual(['call.failed:primary:request.invalid#1']);
    await guard.close();
  });

  it('no catcher matches: the error goes back as is (errorEquals names another code)', async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['timeout.total'], next: 'backup' }]),
      providers: { flaky: createSimModel({ scenario: 'fail 1 503' }) },
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello', 'primary')))).toBe('upstream.error');
    await guard.close();
  });
});

describe('Catch never bypasses the guard', () => {
  it("fmguard's own refusal (a policy forbid on the primary) is not caught", async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['all'], next: 'backup' }], [], {
        agents: { bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['backup', 'sim-small'], tools: ['*'] } } },
      }),
      providers: { flaky: createSimModel() },
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello', 'primary')))).toBe('policy.denied');
    await guard.close();
  });

  it('the fallback passes the full admission: a fallback the agent may not use is refused on its own (policy.denied), after the caught failure', async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['all'], next: 'backup' }], [], {
        agents: { bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['primary'], tools: ['*'] } } },
      }),
      providers: { flaky: createSimModel({ scenario: 'fail 1 503' }) },
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const error = await run.callModel(ask('hello', 'primary')).catch((e: GuardError) => e);
    expect((error as GuardError).code).toBe('policy.denied');
    expect((error as GuardError).details.caught).toEqual([{ from: 'primary', code: 'upstream.error', catcher: 0, next: 'backup' }]);
    expect(summary(events)).toEqual(['call.failed:primary:upstream.error#1', 'call.refused:backup:policy.denied']);
    await guard.close();
  });

  it('the fallback counts against the run: maxSteps 1 allows the caught call and refuses the fallback', async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['all'], next: 'backup' }], [], {
        agents: { bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'], tools: ['*'] }, limits: { maxSteps: 1 } } },
      }),
      providers: { flaky: createSimModel({ scenario: 'fail 1 503' }) },
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello', 'primary')))).toBe('limit.steps');
    await guard.close();
  });

  it('a breaker.open refusal is caught: an open breaker on the primary sends the call to the next model', async () => {
    const guard = createGuard({ config: catching([{ errorEquals: ['breaker.open'], next: 'backup' }]), providers: { flaky: createSimModel() } });
    const events = record(guard);
    await guard.breakers.open('model:primary', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(ask('hello', 'primary'));
    expect(result.servedBy).toBe('backup');
    expect(summary(events)).toEqual(['call.refused:primary:breaker.open', 'call.allowed:backup#1']);
    await guard.close();
  });

  it('a chain a → b → c calls each model once and stops at the end of the chain', async () => {
    const calls: string[] = [];
    const failing = scripted(
      Array.from({ length: 10 }, () => () => new ProviderError('down', { status: 503 })),
      calls,
    );
    const guard = createGuard({
      config: baseConfig({}, {
        providers: { flaky: { kind: 'simulated' } },
        models: {
          a: { provider: 'flaky', inputPerMTok: 1, outputPerMTok: 1, catch: [{ errorEquals: ['all'], next: 'b' }] },
          b: { provider: 'flaky', inputPerMTok: 1, outputPerMTok: 1, catch: [{ errorEquals: ['all'], next: 'c' }] },
          c: { provider: 'flaky', inputPerMTok: 1, outputPerMTok: 1 },
        },
      } as never),
      providers: { flaky: failing },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const error = (await run.callModel(ask('hello', 'a')).catch((e: GuardError) => e)) as GuardError;
    expect(error.code).toBe('upstream.error');
    expect(calls).toEqual(['a', 'b', 'c']);
    expect((error.details.caught as unknown[]).length).toBe(2);
    await guard.close();
  });

  it('streaming: a failure before the first chunk is caught and the stream comes from the next model', async () => {
    const guard = createGuard({
      config: catching([{ errorEquals: ['upstream.error'], next: 'backup' }]),
      providers: { flaky: scripted([() => new ProviderError('down', { status: 503 })]) },
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('hello', 'primary'));
    expect(stream.servedBy).toBe('backup');
    let text = '';
    for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    const result = await stream.result;
    expect(result.servedBy).toBe('backup');
    expect(result.model).toBe('primary');
    expect(summary(events)).toEqual(['call.failed:primary:upstream.error#1', 'call.allowed:backup#1']);
    await guard.close();
  });
});

describe('Catch configuration', () => {
  const problems = (catchers: unknown, extraModels: Record<string, unknown> = {}) => {
    try {
      parseConfig({
        ...catching(catchers as unknown[]),
        models: {
          primary: { provider: 'flaky', inputPerMTok: 1, outputPerMTok: 1, catch: catchers },
          backup: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 },
          ...extraModels,
        },
      } as never);
      return [];
    } catch (e) {
      return String((e as Error).message);
    }
  };

  it('accepts a valid list; reports an unknown next, a catch-all not last or not alone, an uncatchable code, a self-reference and a cycle', () => {
    expect(
      problems([
        { errorEquals: ['timeout.*'], next: 'backup' },
        { errorEquals: ['all'], next: 'backup' },
      ]),
    ).toEqual([]);
    expect(problems([{ errorEquals: ['all'], next: 'nope' }])).toMatch(/models\.primary\.catch\[0\]\.next.*unknown model "nope"/);
    expect(
      problems([
        { errorEquals: ['all'], next: 'backup' },
        { errorEquals: ['upstream.error'], next: 'backup' },
      ]),
    ).toMatch(/models\.primary\.catch\[0\]\.errorEquals.*only entry of the last catcher/);
    expect(problems([{ errorEquals: ['all', 'upstream.error'], next: 'backup' }])).toMatch(/only entry of the last catcher/);
    expect(problems([{ errorEquals: ['limit.cost'], next: 'backup' }])).toMatch(/limit\.cost.*never caught/);
    expect(problems([{ errorEquals: ['all'], next: 'primary' }])).toMatch(/to itself/);
    expect(
      problems([{ errorEquals: ['all'], next: 'backup' }], {
        backup: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1, catch: [{ errorEquals: ['all'], next: 'primary' }] },
      }),
    ).toMatch(/cycle: primary → backup → primary/);
  });
});

describe('Catch on tools (toolServers.<s>.tools.<t>.catch)', () => {
  const toolConfig = (agent: Record<string, unknown> = {}) =>
    baseConfig(agent, {
      toolServers: {
        kb: {
          kind: 'http',
          url: 'https://kb.example/mcp',
          tools: {
            search: { catch: [{ errorEquals: ['timeout.tool', 'upstream.error'], next: 'kb.search_backup' }] },
            search_backup: {},
          },
        },
      },
    } as never);

  it('a failing tool is caught after its (zero) retries and the fallback tool serves, each call audited on its own', async () => {
    const guard = createGuard({ config: toolConfig() });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const served: string[] = [];
    const result = await run.callTool({
      tool: 'kb.search',
      args: { q: 'refunds' },
      execute: (_args, { tool }) => {
        served.push(tool);
        if (tool === 'kb.search') throw new Error('index offline');
        return 'from backup';
      },
    });
    expect(result.result).toBe('from backup');
    expect(result.servedBy).toBe('kb.search_backup');
    expect(served).toEqual(['kb.search', 'kb.search_backup']);
    expect(summary(events)).toEqual(['call.failed:kb.search:upstream.error#1', 'call.allowed:kb.search_backup#1']);
    await guard.close();
  });

  it('a forbidden fallback tool is refused on its own; the caller gets the refusal with the caught failure', async () => {
    const guard = createGuard({ config: toolConfig({ deny: { tools: ['kb.search_backup'] } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const error = (await run
      .callTool({ tool: 'kb.search', args: {}, execute: () => Promise.reject(new Error('down')), fallbacks: { 'kb.search_backup': () => 'never' } })
      .catch((e: GuardError) => e)) as GuardError;
    expect(error.code).toBe('policy.denied');
    expect(error.details.caught).toEqual([{ from: 'kb.search', code: 'upstream.error', catcher: 0, next: 'kb.search_backup' }]);
    await guard.close();
  });

  it('config: a tool catcher to an undeclared tool is reported with its path', () => {
    expect(() =>
      parseConfig(
        baseConfig({}, {
          toolServers: { kb: { kind: 'http', url: 'https://kb.example/mcp', tools: { search: { catch: [{ errorEquals: ['all'], next: 'kb.nope' }] } } } },
        } as never),
      ),
    ).toThrow(/toolServers\.kb\.tools\.search\.catch\[0\]\.next.*unknown tool "kb\.nope"/);
  });
});
