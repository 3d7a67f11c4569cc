import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardError } from '../../src/core/errors.ts';
import { createGuard, ProviderError, type GuardError, type GuardEvent } from '../../src/index.ts';
import { toolBreakerScope } from '../../src/runtime/call-tool.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

/** Edges of `run.callTool`: request checks, catchers, breakers, the error streak, timeouts and what a call holds. */

const T0 = Date.UTC(2026, 0, 1);

function config(agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return baseConfig({ limits: { maxConsecutiveErrors: 10 }, ...agent }, {
    toolServers: {
      crm: {
        kind: 'http',
        url: 'https://crm.example/mcp',
        tools: {
          lookup: { idempotent: true, retry: [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 1 }] },
          lookup2: { idempotent: true, retry: [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 1 }] },
        },
      },
      kb: {
        kind: 'http',
        url: 'https://kb.example/mcp',
        tools: { search: { catch: [{ errorEquals: ['all'], next: 'kb.search_backup' }] }, search_backup: {} },
      },
    },
    ...extra,
  } as never);
}

const fail503 = () => {
  throw new ProviderError('the CRM answered 503', { status: 503 });
};

async function refusal(p: Promise<unknown>): Promise<GuardError> {
  return (await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  )) as GuardError;
}

function record(guard: ReturnType<typeof createGuard>) {
  const events: GuardEvent[] = [];
  guard.on((e) => events.push(e));
  return events;
}

describe('a tool call request', () => {
  // A call with no tool name at all threw a TypeError (its breaker scope was computed from the name first).
  it('needs a tool name and exactly one of execute or worker; the refusal is reported with the call', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config(), clock });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const noName = { code: 'request.invalid', message: 'a tool call needs a tool name', details: { param: 'tool' } };
    expect(await refusal(run.callTool({ tool: '', args: { a: 1 }, execute: () => 1 }))).toMatchObject(noName);
    expect(await refusal(run.callTool({ tool: undefined as never, args: {}, execute: () => 1 }))).toMatchObject(noName);
    const oneOf = { code: 'request.invalid', message: 'a tool call needs exactly one of execute or worker', details: { param: 'execute' } };
    expect(await refusal(run.callTool({ tool: 'crm.lookup', args: {} }))).toMatchObject(oneOf);
    expect(await refusal(run.callTool({ tool: 'crm.lookup', args: {}, execute: () => 1, worker: { module: 'x.mjs' } }))).toMatchObject(oneOf);
    const refused = events.filter((e) => e.type === 'call.refused');
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatchObject({
      type: 'call.refused',
      runId: run.id,
      agent: 'bot',
      tenant: 'acme',
      action: 'callTool',
      resource: '',
      at: T0,
      code: 'request.invalid',
      message: 'a tool call needs a tool name',
      details: { param: 'tool' },
      args: { a: 1 },
    });
    expect((await run.usage()).toolCalls).toBe(0);
    await guard.close();
  });
});

describe('tool catchers', () => {
  it('the primary runs through execute; a result no catcher touched carries no servedBy or caught', async () => {
    const guard = createGuard({ config: config(), clock: new FakeClock(T0) });
    const run = await guard.startRun({ agent: 'bot' });
    const served: string[] = [];
    const result = await run.callTool({
      tool: 'kb.search',
      args: {},
      execute: (_a, { tool }) => {
        served.push(`execute:${tool}`);
        return 'primary';
      },
      fallbacks: { 'kb.search': () => 'not the primary executor', 'kb.search_backup': () => 'backup' },
    });
    expect(result).toStrictEqual({ result: 'primary', attempts: 1, latencyMs: 0 });
    expect(served).toEqual(['execute:kb.search']);
    await guard.close();
  });

  it("a fallback with its own executor is served by it, not by the primary's execute", async () => {
    const guard = createGuard({ config: config(), clock: new FakeClock(T0) });
    const run = await guard.startRun({ agent: 'bot' });
    const served: string[] = [];
    const result = await run.callTool({
      tool: 'kb.search',
      args: {},
      execute: (_a, { tool }) => {
        served.push(`execute:${tool}`);
        throw new Error('index offline');
      },
      fallbacks: {
        'kb.search_backup': (_a, { tool }) => {
          served.push(`own:${tool}`);
          return 'backup';
        },
      },
    });
    expect(result.result).toBe('backup');
    expect(result.servedBy).toBe('kb.search_backup');
    expect(served).toEqual(['execute:kb.search', 'own:kb.search_backup']);
    await guard.close();
  });

  it("the caller's cancel is not caught: no fallback runs", async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config(), clock });
    const run = await guard.startRun({ agent: 'bot' });
    const cancel = new AbortController();
    const served: string[] = [];
    const pending = refusal(
      run.callTool({
        tool: 'kb.search',
        args: {},
        signal: cancel.signal,
        execute: (_a, { tool, signal }) => {
          served.push(tool);
          if (tool !== 'kb.search') return 'backup';
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }));
        },
      }),
    );
    await clock.advance(10);
    cancel.abort(guardError('kill.switch', 'the caller cancelled'));
    await pending;
    expect(served).toEqual(['kb.search']);
    await guard.close();
  });
});

describe('what a tool call holds', () => {
  it('a call in flight keeps the run (no idle end); when done it leaves no count, timer or listener behind; latency is exact', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config({}, { defaults: { retry: [], runIdleTtlMs: 100 } }), clock });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const before = clock.pending;
    let toolSignal: AbortSignal | undefined;
    const pending = run.callTool({
      tool: 'crm.note',
      args: { id: 7 },
      execute: (_a, { signal }) => {
        toolSignal = signal;
        return new Promise<string>((resolve) => clock.setTimeout(() => resolve('noted'), 250));
      },
    });
    await clock.advance(200);
    expect(await guard.sweepIdle()).toBe(0);
    await clock.advance(50);
    const result = await pending;
    expect(result).toStrictEqual({ result: 'noted', attempts: 1, latencyMs: 250 });
    expect(clock.pending).toBe(before);
    expect(getEventListeners(toolSignal!, 'abort')).toHaveLength(0);
    expect(toolSignal!.aborted).toBe(false);
    const allowed = events.filter((e) => e.type === 'call.allowed');
    expect(allowed).toEqual([
      {
        runId: run.id,
        agent: 'bot',
        tenant: 'acme',
        keyId: undefined,
        action: 'callTool',
        resource: 'crm.note',
        type: 'call.allowed',
        at: T0 + 250,
        usage: { inputTokens: 0, outputTokens: 0 },
        costUsd: 0,
        latencyMs: 250,
        attempts: 1,
        args: { id: 7 },
      },
    ]);
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'test'))).toBe(0);
    await guard.close();
  });

  it('a tool that ignores its signal fails with timeout.tool at its timeout, and its signal carries the reason', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config(), clock });
    const run = await guard.startRun({ agent: 'bot' });
    let toolSignal: AbortSignal | undefined;
    const pending = refusal(
      run.callTool({
        tool: 'crm.note',
        args: {},
        timeoutMs: 300,
        execute: (_a, { signal }) => {
          toolSignal = signal;
          return new Promise<never>(() => {});
        },
      }),
    );
    await clock.advance(299);
    expect(toolSignal!.aborted).toBe(false);
    await clock.advance(1);
    const error = await pending;
    expect(error).toMatchObject({ code: 'timeout.tool', message: 'tool call exceeded its timeout of 300 ms', details: { limit: 300 } });
    expect((toolSignal!.reason as GuardError).code).toBe('timeout.tool');
    await guard.close();
  });

  it("stopping the run aborts the tool's signal, and the caller gets the stop, not an error streak", async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config({ limits: { maxConsecutiveErrors: 1 } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    expect((await refusal(run.callTool({ tool: 'crm.note', args: {}, execute: fail503 }))).code).toBe('upstream.error');
    let toolSignal: AbortSignal | undefined;
    const pending = refusal(
      run.callTool({
        tool: 'crm.note',
        args: { n: 2 },
        execute: (_a, { signal }) => {
          toolSignal = signal;
          return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        },
      }),
    );
    await clock.advance(10);
    await run.stop('operator');
    const error = await pending;
    expect(error.code).toBe('kill.switch');
    expect(toolSignal!.aborted).toBe(true);
    await guard.close();
  });
});

describe('the consecutive-error streak of tool calls', () => {
  it('a success resets it; the (N+1)th failure in a row stops the run with loop.repeated_error, named', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config({ limits: { maxConsecutiveErrors: 2 } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    let n = 0;
    const call = (execute: () => unknown) => run.callTool({ tool: 'crm.note', args: { n: n++ }, execute });
    expect((await refusal(call(fail503))).code).toBe('upstream.error');
    expect((await refusal(call(fail503))).code).toBe('upstream.error');
    await call(() => 'ok');
    expect((await refusal(call(fail503))).code).toBe('upstream.error');
    // fmguard's own failures (internal faults) are not the run's errors: they neither count nor reset.
    expect(
      (
        await refusal(
          call(() => {
            throw new RangeError('Maximum call stack size exceeded');
          }),
        )
      ).code,
    ).toBe('request.invalid');
    const last = await refusal(call(fail503));
    expect(last.code).toBe('upstream.error');
    const stop = await refusal(call(fail503));
    expect(stop.code).toBe('loop.repeated_error');
    expect(stop.message).toMatch(/^3 tool calls failed in a row \(last: crm\.note: .*503.*\)$/);
    expect(stop.details).toMatchObject({ limit: 2, used: 3, tool: 'crm.note', runId: run.id });
    await guard.close();
  });

  it('call.failed says whether the failure was internal, and whether the retry budget denied a retry', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({
      config: config({}, { defaults: { retry: [], retryBudget: { ratio: 0, minRetries: 1, windowMs: 60_000 } } }),
      clock,
    });
    const events = record(guard);
    const run = await guard.startRun({ agent: 'bot' });
    const failing = async (tool: string) => {
      const pending = refusal(run.callTool({ tool, args: {}, execute: fail503 }));
      await clock.advance(1000);
      return pending;
    };
    // Each tool's retries are budgeted in its own scope: lookup2 keeps its minimum after lookup spent its.
    expect((await failing('crm.lookup')).details.attempts).toBe(2);
    expect((await failing('crm.lookup2')).details.attempts).toBe(2);
    expect((await failing('crm.lookup')).details.attempts).toBe(1);
    await refusal(
      run.callTool({
        tool: 'crm.note',
        args: {},
        execute: () => {
          throw new RangeError('Invalid array length');
        },
      }),
    );
    const failed = events.filter((e) => e.type === 'call.failed') as (GuardEvent & Record<string, unknown>)[];
    expect(failed.map((e) => [e.resource, e.attempts, e.retryDenied, e.internal])).toEqual([
      ['crm.lookup', 2, undefined, undefined],
      ['crm.lookup2', 2, undefined, undefined],
      ['crm.lookup', 1, 'budget', undefined],
      ['crm.note', 1, undefined, true],
    ]);
    expect(failed[0]).toMatchObject({ action: 'callTool', code: 'upstream.error', costUsd: 0, latencyMs: 100, args: {} });
    await guard.close();
  });
});

describe("a tool server's breaker", () => {
  it("is the server's for a dotted name, the tool's own otherwise", () => {
    expect(toolBreakerScope('demo.search')).toBe('server:demo');
    expect(toolBreakerScope('search')).toBe('tool:search');
    expect(toolBreakerScope('.hidden')).toBe('tool:.hidden');
  });

  it('upstream failures open it (internal ones do not), and an open breaker refuses without running the tool', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config({}, { breakers: { overrides: { 'server:crm': { failureThreshold: 2, cooldownMs: 60_000 } } } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    let ran = 0;
    const call = (execute: () => unknown) =>
      run.callTool({
        tool: 'crm.note',
        args: { n: ran },
        execute: () => {
          ran++;
          return execute();
        },
      });
    const internal = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    await refusal(call(internal));
    await refusal(call(internal));
    await refusal(call(internal));
    expect(await call(() => 'fine')).toMatchObject({ result: 'fine' });
    await refusal(call(fail503));
    await refusal(call(fail503));
    expect(ran).toBe(6);
    const open = await refusal(call(() => 'never'));
    expect(open.code).toBe('breaker.open');
    expect(ran).toBe(6);
    // Another server's tools are not affected.
    expect(await run.callTool({ tool: 'kb.search_backup', args: {}, execute: () => 'kb' })).toMatchObject({ result: 'kb' });
    await guard.close();
  });

  it('a half-open probe refused after the breaker admitted it gives its slot back', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config({ limits: { maxToolCallsPerTool: { 'crm.once': 1 } } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await run.callTool({ tool: 'crm.once', args: {}, execute: () => 1 })).toMatchObject({ result: 1 });
    await guard.breakers.open('server:crm', { cooldownMs: 1000, halfOpenProbes: 1, by: 'test', reason: 'test' });
    await clock.advance(1001);
    expect((await refusal(run.callTool({ tool: 'crm.once', args: {}, execute: () => 2 }))).code).toBe('limit.tool_calls');
    expect(await run.callTool({ tool: 'crm.other', args: {}, execute: () => 3 })).toMatchObject({ result: 3 });
    await guard.close();
  });
});
