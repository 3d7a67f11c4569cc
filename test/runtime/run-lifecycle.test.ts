/**
 * src/runtime/run.ts through its real interface (the Run the Guard hands out, and readRunUsage):
 * every getter, sub-runs (agent, id, parent, limits, deadline), stop (default and given reasons),
 * end (once), refuse (terminal or not, its resource), usage with FakeClock, and the pass-through
 * calls — with the events emitted and the records written, as whole objects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, type Guard, type GuardEvent, type Store } from '../../src/index.ts';
import { guardError } from '../../src/core/errors.ts';
import { readRunUsage, Run } from '../../src/runtime/run.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const BOT_LIMITS = { maxDepth: 3, maxDurationMs: HOUR, maxSteps: 50, maxIdenticalOutputs: 100, maxIdenticalToolCalls: 2 };
const HELPER_LIMITS = { maxDepth: 2, maxDurationMs: 2 * HOUR, maxSteps: 7 };

function config() {
  return baseConfig({}, {
    tenants: { acme: {} },
    agents: {
      bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'], tools: ['*'] }, limits: BOT_LIMITS, delegatesTo: ['helper'] },
      helper: { tenant: 'acme', keys: ['sk-test-helper-01'], allow: { models: ['*'], tools: ['*'] }, limits: HELPER_LIMITS },
    },
  } as never);
}

let open: Guard[] = [];

function setup(listen = true) {
  const clock = new FakeClock(T0);
  const store = createMemoryStore();
  const guard = createGuard({ config: config(), clock, store, audit: false });
  open.push(guard);
  const events: GuardEvent[] = [];
  if (listen) guard.on((e) => events.push(e));
  const of = <T extends GuardEvent['type']>(type: T) => events.filter((e): e is Extract<GuardEvent, { type: T }> => e.type === type);
  return { clock, store, guard, events, of };
}

afterEach(async () => {
  for (const guard of open) await guard.close();
  open = [];
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );

/** A GuardError as a plain object (what toEqual compares). */
const plain = (e: unknown) => {
  const err = e as { name: string; code: string; message: string; details: unknown };
  return { name: err.name, code: err.code, message: err.message, details: err.details };
};

describe('Run getters', () => {
  it('a root run: id, name, agent, tenant, depth, parentId, limits, signal, stopError', async () => {
    const { guard, store } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(run).toBeInstanceOf(Run);
    expect([run.id, run.name, run.agent, run.tenant, run.depth, run.parentId]).toEqual(['job@bot', 'job', 'bot', 'acme', 0, undefined]);
    expect(run.limits).toBe(run.handle.agent.limits);
    expect(run.limits).toMatchObject(BOT_LIMITS);
    expect(run.signal).toBe(run.handle.signal);
    expect(run.signal.aborted).toBe(false);
    expect(run.stopError).toBeUndefined();
    expect(await store.runs.get('job@bot')).toEqual({
      id: 'job@bot',
      agent: 'bot',
      tenant: 'acme',
      parentId: undefined,
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + HOUR,
      status: 'running',
    });
  });

  it('a minted run name is the id without its agent', async () => {
    const { guard } = setup();
    const run = await guard.startRun({ agent: 'bot' });
    expect(run.id).toBe(`${run.name}@bot`);
    expect(run.name).not.toContain('@');
    expect(run.name.length).toBeGreaterThan(0);
  });
});

describe('subRun', () => {
  it('with no options: same agent, depth + 1, parentId, its own minted id, the parent deadline kept', async () => {
    const { guard, store, clock, of } = setup();
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    await clock.advance(1000);
    const child = await root.subRun();
    expect(child).toBeInstanceOf(Run);
    expect([child.agent, child.tenant, child.depth, child.parentId]).toEqual(['bot', 'acme', 1, 'root@bot']);
    expect(child.id).toMatch(/@bot$/);
    expect(child.id).not.toBe(root.id);
    expect(child.limits).toMatchObject(BOT_LIMITS);
    const record = {
      id: child.id,
      agent: 'bot',
      tenant: 'acme',
      parentId: 'root@bot',
      ancestors: ['root@bot'],
      depth: 1,
      startedAt: T0 + 1000,
      // A sub-run never outlives its parent.
      deadline: T0 + HOUR,
      status: 'running',
    };
    expect(await store.runs.get(child.id)).toEqual(record);
    expect(of('run.started').map((e) => e.run)).toEqual([(await store.runs.get('root@bot'))!, record]);
    expect(child.handle.chain).toEqual([
      { runId: child.id, limits: child.limits },
      { runId: 'root@bot', limits: root.limits },
    ]);
  });

  it('with an id and another agent: that agent and its own limits, the id scoped to it', async () => {
    const { guard, store } = setup();
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const kid = await root.subRun({ agent: 'helper', id: 'kid' });
    expect([kid.id, kid.name, kid.agent, kid.tenant, kid.depth, kid.parentId]).toEqual(['kid@helper', 'kid', 'helper', 'acme', 1, 'root@bot']);
    expect(kid.limits).toMatchObject(HELPER_LIMITS);
    expect(kid.limits).not.toEqual(root.limits);
    // Its own duration is longer, its parent's deadline wins.
    expect(await store.runs.get('kid@helper')).toEqual({
      id: 'kid@helper',
      agent: 'helper',
      tenant: 'acme',
      parentId: 'root@bot',
      ancestors: ['root@bot'],
      depth: 1,
      startedAt: T0,
      deadline: T0 + HOUR,
      status: 'running',
    });
    expect(kid.handle.chain).toEqual([
      { runId: 'kid@helper', limits: kid.limits },
      { runId: 'root@bot', limits: root.limits },
    ]);
    const grand = await kid.subRun({ id: 'g' });
    expect([grand.id, grand.agent, grand.depth, grand.parentId]).toEqual(['g@helper', 'helper', 2, 'kid@helper']);
    expect((await store.runs.get('g@helper'))!.ancestors).toEqual(['kid@helper', 'root@bot']);
  });

  it('usage of a sub-run counts against its parent', async () => {
    const { guard } = setup();
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const child = await root.subRun({ id: 'c' });
    await child.callModel(ask('hello'));
    const [r, c] = [await root.usage(), await child.usage()];
    expect(r).toEqual(c);
    expect(r.steps).toBe(1);
  });

  it('a sub-run past the depth limit is refused with limit.depth', async () => {
    const { guard } = setup();
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const kid = await root.subRun({ agent: 'helper', id: 'k1' });
    const k2 = await kid.subRun({ id: 'k2' });
    expect(plain(await refusal(k2.subRun({ id: 'k3' })))).toEqual({
      name: 'GuardError',
      code: 'limit.depth',
      message: 'sub-run depth 3 exceeds the limit of 2',
      details: { limit: 2, used: 3, runId: 'k2@helper' },
    });
  });
});

describe('stop', () => {
  it('with the default reason: kill.switch scoped to the run, the record stopped, run.stopped emitted, the signal aborted', async () => {
    const { guard, store, clock, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await clock.advance(250);
    await run.stop();
    const expected = {
      name: 'GuardError',
      code: 'kill.switch',
      message: 'stopped by its owner',
      details: { scope: 'run:job@bot', runId: 'job@bot' },
    };
    expect(plain(run.stopError)).toEqual(expected);
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBe(run.stopError);
    expect(of('run.stopped')).toEqual([
      { type: 'run.stopped', at: T0 + 250, runId: 'job@bot', agent: 'bot', tenant: 'acme', code: 'kill.switch', reason: 'stopped by its owner' },
    ]);
    expect(await store.runs.get('job@bot')).toEqual({
      id: 'job@bot',
      agent: 'bot',
      tenant: 'acme',
      parentId: undefined,
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + HOUR,
      status: 'stopped',
      stopCode: 'kill.switch',
      stopReason: 'stopped by its owner',
      endedAt: T0 + 250,
    });
    expect(plain(await refusal(run.callModel(ask('x'))))).toEqual(expected);
    // Stopping twice changes nothing: the first stop wins.
    await run.stop('again');
    expect(of('run.stopped')).toHaveLength(1);
    expect(plain(run.stopError)).toEqual(expected);
  });

  it('with a given reason', async () => {
    const { guard, store, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await run.stop('enough');
    expect(plain(run.stopError)).toEqual({ name: 'GuardError', code: 'kill.switch', message: 'enough', details: { scope: 'run:job@bot', runId: 'job@bot' } });
    expect(of('run.stopped')).toEqual([{ type: 'run.stopped', at: T0, runId: 'job@bot', agent: 'bot', tenant: 'acme', code: 'kill.switch', reason: 'enough' }]);
    expect(await store.runs.get('job@bot')).toMatchObject({ status: 'stopped', stopCode: 'kill.switch', stopReason: 'enough', endedAt: T0 });
  });

  it('stopping a parent stops its sub-runs held here, not the other way round', async () => {
    const { guard } = setup();
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const child = await root.subRun({ id: 'c' });
    const other = await guard.startRun({ agent: 'bot', id: 'other' });
    await child.stop('child only');
    expect([root.signal.aborted, child.signal.aborted]).toEqual([false, true]);
    await guard.kill(`run:${root.id}`);
    expect([root.signal.aborted, other.signal.aborted]).toEqual([true, false]);
  });
});

describe('end', () => {
  it('completes the record, emits run.ended once, and refuses later calls', async () => {
    const { guard, store, clock, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await clock.advance(40);
    await expect(run.end()).resolves.toBeUndefined();
    expect(of('run.ended')).toEqual([{ type: 'run.ended', at: T0 + 40, runId: 'job@bot', agent: 'bot', tenant: 'acme' }]);
    expect(of('run.stopped')).toEqual([]);
    expect(await store.runs.get('job@bot')).toEqual({
      id: 'job@bot',
      agent: 'bot',
      tenant: 'acme',
      parentId: undefined,
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + HOUR,
      status: 'completed',
      endedAt: T0 + 40,
    });
    expect(plain(run.stopError)).toEqual({ name: 'GuardError', code: 'request.invalid', message: 'the run has ended', details: {} });
    expect(run.signal.aborted).toBe(true);
    await clock.advance(10);
    await run.end();
    expect(of('run.ended')).toHaveLength(1);
    expect((await store.runs.get('job@bot'))!.endedAt).toBe(T0 + 40);
    expect(plain(await refusal(run.callModel(ask('x'))))).toMatchObject({ code: 'request.invalid', message: 'the run has ended' });
    // Stopping an ended run does nothing.
    await run.stop();
    expect(of('run.stopped')).toEqual([]);
    expect((await store.runs.get('job@bot'))!.status).toBe('completed');
  });

  it('a run resumed after it ended is stopped from the start', async () => {
    const { guard, store } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await run.end();
    const again = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(plain(again.stopError)).toEqual({ name: 'GuardError', code: 'request.invalid', message: 'the run has ended', details: { runId: 'job@bot' } });
    expect((await store.runs.get('job@bot'))!.status).toBe('completed');
  });
});

describe('refuse', () => {
  const denied = () => guardError('policy.denied', 'no crm for you', { tool: 'crm.lookup', policies: ['p1'] });

  it('a non-terminal error: returned as is, call.refused emitted with the tool from its details, the run kept', async () => {
    const { guard, of, clock } = setup();
    const run = await guard.startRun({ key: 'sk-test-bot-0001', id: 'job' });
    await clock.advance(5);
    const error = denied();
    expect(await run.refuse(error, 'ignored')).toBe(error);
    expect(of('call.refused')).toEqual([
      {
        type: 'call.refused',
        at: T0 + 5,
        runId: 'job@bot',
        agent: 'bot',
        tenant: 'acme',
        keyId: 'key_26156b31bbad',
        action: 'callTool',
        resource: 'crm.lookup',
        code: 'policy.denied',
        message: 'no crm for you',
        details: { tool: 'crm.lookup', policies: ['p1'] },
      },
    ]);
    expect(run.stopError).toBeUndefined();
    expect(of('run.stopped')).toEqual([]);
  });

  it('with no tool in the details: the resource given, else the empty string', async () => {
    const { guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await run.refuse(guardError('policy.denied', 'a', {}), 'search');
    await run.refuse(guardError('policy.denied', 'b', {}));
    expect(of('call.refused').map((e) => [e.resource, e.message, e.keyId])).toEqual([
      ['search', 'a', undefined],
      ['', 'b', undefined],
    ]);
  });

  it('a terminal error stops the run: run.stopped, the record, and call.refused with the final error', async () => {
    const { guard, of, store, events } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    const error = guardError('loop.repeated_tool_call', 'again and again', { tool: 'web.search', limit: 2, used: 3 });
    const final = await run.refuse(error);
    expect(final).toBe(error);
    expect(run.stopError).toBe(error);
    expect(run.signal.aborted).toBe(true);
    expect(events.filter((e) => e.type !== 'run.started')).toEqual([
      { type: 'run.stopped', at: T0, runId: 'job@bot', agent: 'bot', tenant: 'acme', code: 'loop.repeated_tool_call', reason: 'again and again' },
      {
        type: 'call.refused',
        at: T0,
        runId: 'job@bot',
        agent: 'bot',
        tenant: 'acme',
        keyId: undefined,
        action: 'callTool',
        resource: 'web.search',
        code: 'loop.repeated_tool_call',
        message: 'again and again',
        details: { tool: 'web.search', limit: 2, used: 3 },
      },
    ]);
    expect(await store.runs.get('job@bot')).toMatchObject({ status: 'stopped', stopCode: 'loop.repeated_tool_call', stopReason: 'again and again' });
    expect(of('call.refused')).toHaveLength(1);
  });

  it('a terminal error on a run already stopped: the stop that came first is what is returned and reported', async () => {
    const { guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await run.stop('first');
    const final = await run.refuse(guardError('loop.no_progress', 'second', {}), 'x');
    expect(final).toBe(run.stopError);
    expect(of('call.refused').map((e) => [e.code, e.message, e.resource, e.details])).toEqual([
      ['kill.switch', 'first', 'x', { scope: 'run:job@bot', runId: 'job@bot' }],
    ]);
    expect(of('run.stopped')).toHaveLength(1);
  });

  it('with no listener, a terminal error still stops the run and is returned', async () => {
    const { guard, store } = setup(false);
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    const error = guardError('loop.no_progress', 'stuck', {});
    expect(await run.refuse(error)).toBe(error);
    expect(run.stopError).toBe(error);
    expect(await store.runs.get('job@bot')).toMatchObject({ status: 'stopped', stopCode: 'loop.no_progress', stopReason: 'stuck', endedAt: T0 });
    const denied = guardError('policy.denied', 'no', {});
    expect(await run.refuse(denied)).toBe(denied);
  });
});

describe('usage', () => {
  it('is zero for a fresh run, then counts steps, tokens, cost and tool calls exactly', async () => {
    const { guard, clock, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(await run.usage()).toEqual({ steps: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, reservedCostUsd: 0 });
    const result = await run.callModel(ask('count me'));
    await clock.advance(10);
    const allowed = of('call.allowed')[0]!;
    const tool = await run.callTool({ tool: 'calc', args: { a: 1 }, execute: () => 42 });
    expect(tool).toMatchObject({ result: 42 });
    const usage = await run.usage();
    expect(usage).toEqual({
      steps: 1,
      toolCalls: 1,
      inputTokens: allowed.usage.inputTokens,
      outputTokens: allowed.usage.outputTokens,
      totalTokens: allowed.usage.inputTokens + allowed.usage.outputTokens,
      costUsd: allowed.costUsd,
      reservedCostUsd: 0,
    });
    expect(result).toBeDefined();
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.inputTokens).not.toBe(usage.outputTokens);
    expect(usage.costUsd).toBeGreaterThan(0);
  });

  it('readRunUsage reads the six dimensions of run:<id> at the time given, in order', async () => {
    const asked: unknown[] = [];
    const store = {
      ledger: {
        balances: async (lines: { key: string; dim: string }[], now: number) => {
          asked.push({ lines, now });
          return lines.map((_, i) => ({ used: (i + 1) * 1_000_000_000, reserved: (i + 1) * 500_000_000 }));
        },
      },
    } as never;
    expect(await readRunUsage(store, 'job@bot', 1234)).toEqual({
      steps: 1_000_000_000,
      toolCalls: 2_000_000_000,
      inputTokens: 3_000_000_000,
      outputTokens: 4_000_000_000,
      totalTokens: 5_000_000_000,
      costUsd: 6,
      reservedCostUsd: 3,
    });
    expect(asked).toEqual([
      {
        lines: [
          { key: 'run:job@bot', dim: 'steps' },
          { key: 'run:job@bot', dim: 'tool_calls' },
          { key: 'run:job@bot', dim: 'input_tokens' },
          { key: 'run:job@bot', dim: 'output_tokens' },
          { key: 'run:job@bot', dim: 'total_tokens' },
          { key: 'run:job@bot', dim: 'cost' },
        ],
        now: 1234,
      },
    ]);
  });

  it('run.usage() reads at the clock time, from the guard store', async () => {
    const { guard, store, clock } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await clock.advance(777);
    await run.callModel(ask('one'));
    expect(await run.usage()).toEqual(await readRunUsage(store as Store, 'job@bot', T0 + 777));
  });
  it('run.usage() reads at the clock time: a reservation past its TTL is no longer held', async () => {
    const { guard, clock } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    const call = run.callModel(ask('[sim:stall_first] x')).then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );
    await clock.advance(1);
    const held = await run.usage();
    expect(held).toMatchObject({ steps: 0, costUsd: 0 });
    expect(held.reservedCostUsd).toBeGreaterThan(0);
    // Ten minutes (the default reservation TTL) later, without firing a timer: the hold has lapsed.
    clock.set(T0 + 1 + 10 * 60_000);
    expect(await run.usage()).toEqual({ steps: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, reservedCostUsd: 0 });
    await run.stop('done');
    expect(await call).toBe('kill.switch');
  });
});

describe('the calls pass through to the run', () => {
  it('callModel, streamModel, callEmbeddings, callTool and checkToolCalls act on this run', async () => {
    const { guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    const other = await guard.startRun({ agent: 'bot', id: 'other' });
    const model = await run.callModel(ask('a'));
    expect(model.response.choices[0]!.message).toMatchObject({ role: 'assistant' });
    const stream = await run.streamModel(ask('b'));
    let chunks = 0;
    for await (const _ of stream) chunks++;
    expect(chunks).toBeGreaterThan(0);
    const emb = await run.callEmbeddings({ model: 'sim-small', input: 'hello' } as never);
    expect(emb).toBeDefined();
    const tool = await run.callTool({ tool: 'calc', args: { n: 2 }, execute: ({ n }: { n: number }) => n * 2 });
    expect(tool).toMatchObject({ result: 4 });
    expect(of('call.allowed').map((e) => e.runId)).toEqual(['job@bot', 'job@bot', 'job@bot', 'job@bot']);
    expect((await other.usage()).steps).toBe(0);

    const call = { id: 'c1', type: 'function' as const, function: { name: 'calc', arguments: '{"n":1}' } };
    expect(run.checkToolCalls([])).toEqual([]);
    expect(run.checkToolCalls([call])).toEqual([]);
    expect(run.checkToolCalls([call, call])).toEqual([]);
    const violations = run.checkToolCalls([call, call, call]);
    expect(violations.map((v) => [v.call, v.error.code, v.error.details])).toEqual([
      [call, 'loop.repeated_tool_call', { limit: 2, used: 3, tool: 'calc', runId: 'job@bot' }],
    ]);
    const conversation = [{ role: 'assistant' as const, content: null, tool_calls: [call, call] }];
    expect(run.checkToolCalls([call], conversation).map((v) => v.error.details)).toEqual([{ limit: 2, used: 3, tool: 'calc', runId: 'job@bot' }]);
  });
});
