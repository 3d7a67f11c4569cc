import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatToolCall } from '../../src/core/chat.ts';
import { createGuard } from '../../src/index.ts';
import { checkProposedToolCalls } from '../../src/runtime/proposed-tools.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig, recordingAuthorizer } from './fixtures.ts';

/**
 * Issue 20: src/runtime/proposed-tools.ts pinned exactly (decision order step 11) — what the policy is
 * asked about a proposed tool call, the exact `policy.denied` and `loop.repeated_tool_call` violations,
 * which conversation messages count as earlier calls, and that a denied call is not counted as a repeat.
 * Through `Run.checkToolCalls` and the module's export, with an Authorizer that records its requests.
 */
const T0 = Date.UTC(2026, 0, 1, 13, 30, 0);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setup({ deny = [] as string[], approval = [] as string[], limit = 2 } = {}) {
  const clock = new FakeClock(T0);
  const { authorizer, requests } = recordingAuthorizer(deny, approval);
  const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: limit } }), clock, authorizer, audit: false });
  closers.push(() => guard.close());
  const run = await guard.startRun({ agent: 'bot' });
  requests.length = 0;
  return { clock, guard, run, requests };
}

const call = (id: string, name: string, args: Record<string, unknown>): ChatToolCall => ({
  id,
  type: 'function',
  function: { name, arguments: JSON.stringify(args) },
});
const assistant = (...calls: ChatToolCall[]): ChatMessage => ({ role: 'assistant', content: null, tool_calls: calls });

describe('checkProposedToolCalls: nothing proposed', () => {
  it('no calls: no violations and no policy question, whatever the conversation holds (it is not even read)', async () => {
    const { run, requests } = await setup();
    const malformed = [{ role: 'assistant', content: null, tool_calls: [{ id: 'x', type: 'function' }] }] as unknown as ChatMessage[];
    expect(run.checkToolCalls([], malformed)).toEqual([]);
    expect(run.checkToolCalls([])).toEqual([]);
    expect(requests).toEqual([]);
  });
});

describe('checkProposedToolCalls: the policy', () => {
  it('asks the policy about each call with the run principal, the tool resource name and the exact context', async () => {
    const { run, requests, guard } = await setup();
    await run.callModel(ask('hello'));
    requests.length = 0;
    const proposed = [call('a', 'files__read', { path: '/a' }), { id: 'b', type: 'function', function: { name: 'plain' } } as ChatToolCall];
    expect(run.checkToolCalls(proposed)).toEqual([]);
    expect(run.handle.localSteps).toBe(1);
    expect(run.handle.localCostNano).toBeGreaterThan(0);
    const context = { runSteps: 1, runCostNanoUsd: run.handle.localCostNano, runDepth: 0, hourUtc: 13 };
    expect(requests).toEqual([
      { agent: 'bot', tenant: 'acme', action: 'callTool', resource: 'files.read', context: { input: { path: '/a' }, ...context } },
      { agent: 'bot', tenant: 'acme', action: 'callTool', resource: 'plain', context: { input: {}, ...context } },
    ]);
    expect(guard.config.agents.bot!.limits.maxIdenticalToolCalls).toBe(2);
  });

  it('a denied call is a policy.denied violation with the exact message and details; allowed and approval-gated calls pass', async () => {
    const { run } = await setup({ deny: ['files.delete'], approval: ['files.write'] });
    const del = call('d', 'files__delete', { path: '/' });
    const write = call('w', 'files__write', { path: '/b' });
    const read = call('r', 'files__read', { path: '/b' });
    expect(run.checkToolCalls([read, del, write])).toEqual([
      {
        call: del,
        error: expect.objectContaining({
          code: 'policy.denied',
          message: 'the model proposed files.delete, which bot may not call',
          details: { policies: ['no-files.delete'], resource: 'files.delete', tool: 'files.delete' },
        }),
      },
    ]);
  });

  it('a denied call is not counted as a repeat: each identical denied call is policy.denied, never loop.repeated_tool_call', async () => {
    const { run } = await setup({ deny: ['files.delete'], limit: 1 });
    const calls = [call('d1', 'files__delete', { path: '/' }), call('d2', 'files__delete', { path: '/' }), call('r1', 'files__read', { path: '/' })];
    expect(run.checkToolCalls(calls).map((v) => [v.call.id, v.error.code, v.error.details])).toEqual([
      ['d1', 'policy.denied', { policies: ['no-files.delete'], resource: 'files.delete', tool: 'files.delete' }],
      ['d2', 'policy.denied', { policies: ['no-files.delete'], resource: 'files.delete', tool: 'files.delete' }],
    ]);
  });

  it('a call without a function is checked as the tool "" (no crash on the missing name)', async () => {
    const { run, requests } = await setup({ deny: [''] });
    const bare = { id: 'x', type: 'function' } as unknown as ChatToolCall;
    expect(run.checkToolCalls([bare]).map((v) => [v.call, v.error.code, v.error.message, v.error.details])).toEqual([
      [bare, 'policy.denied', 'the model proposed , which bot may not call', { policies: ['no-'], resource: '', tool: '' }],
    ]);
    expect(requests.map((r) => [r.resource, r.context.input])).toEqual([['', {}]]);
  });

  it('without an authorizer no policy is asked and a call the policy would deny passes; repeats are still counted', async () => {
    const { guard, run, requests } = await setup({ deny: ['files.delete'], limit: 1 });
    const ctx = { ...guard.ctx, authorizer: undefined };
    const del = call('d1', 'files__delete', { path: '/' });
    expect(checkProposedToolCalls(ctx, run.handle, [del], [])).toEqual([]);
    const violations = checkProposedToolCalls(ctx, run.handle, [del, { ...del, id: 'd2' }], []);
    expect(violations.map((v) => [v.call.id, v.error.code, v.error.message])).toEqual([
      ['d2', 'loop.repeated_tool_call', 'the model proposed files.delete with the same arguments for the 2th time'],
    ]);
    expect(requests).toEqual([]);
  });
});

describe('checkProposedToolCalls: repeated calls', () => {
  it('counts earlier calls only from assistant messages with tool calls; at the limit a call passes, one more is refused exactly', async () => {
    const { run } = await setup({ limit: 2 });
    const read = (id: string, path = '/a') => call(id, 'files__read', { path });
    const conversation = [
      { role: 'user', content: 'read /a' },
      assistant(read('h1')),
      { role: 'tool', tool_call_id: 'h1', content: 'A' },
      { role: 'assistant', content: 'thinking' },
      // Not an assistant turn: its tool_calls are not counted.
      { role: 'user', content: 'again', tool_calls: [read('u1'), read('u2')] },
    ] as ChatMessage[];
    const proposed = [read('p1'), read('p2'), read('p3', '/b')];
    const violations = run.checkToolCalls(proposed, conversation);
    expect(violations).toEqual([
      {
        call: proposed[1],
        error: expect.objectContaining({
          code: 'loop.repeated_tool_call',
          message: 'the model proposed files.read with the same arguments for the 3th time',
          details: { limit: 2, used: 3, tool: 'files.read', runId: run.id },
        }),
      },
    ]);
    // A fresh check starts from the conversation again (the burst above is not remembered).
    expect(run.checkToolCalls([read('q1')], conversation)).toEqual([]);
  });

  it('each further identical call in the burst is refused with its own count; different arguments are counted apart', async () => {
    const { run } = await setup({ limit: 1 });
    const s = (id: string, q: string) => call(id, 'search', { q });
    const history: ChatMessage[] = [assistant(s('h1', 'x'), s('h2', 'y'))];
    const violations = run.checkToolCalls([s('a', 'x'), s('b', 'z'), s('c', 'z'), s('d', 'z')], history);
    expect(violations.map((v) => [v.call.id, v.error.details])).toEqual([
      ['a', { limit: 1, used: 2, tool: 'search', runId: run.id }],
      ['c', { limit: 1, used: 2, tool: 'search', runId: run.id }],
      ['d', { limit: 1, used: 3, tool: 'search', runId: run.id }],
    ]);
    expect(violations.map((v) => v.error.message)).toEqual([
      'the model proposed search with the same arguments for the 2th time',
      'the model proposed search with the same arguments for the 2th time',
      'the model proposed search with the same arguments for the 3th time',
    ]);
  });

  it('a call whose function has no name counts as the tool ""', async () => {
    const { run } = await setup({ limit: 1 });
    const nameless = { id: 'n', type: 'function', function: { arguments: '{}' } } as unknown as ChatToolCall;
    expect(run.checkToolCalls([nameless, { ...nameless, id: 'n2' }]).map((v) => [v.call.id, v.error.message, v.error.details])).toEqual([
      ['n2', 'the model proposed  with the same arguments for the 2th time', { limit: 1, used: 2, tool: '', runId: run.id }],
    ]);
  });

  // Regression: the repeat check read `call.function.name` and threw a TypeError (not a GuardError) on a
  // call without a `function` that the policy allowed; the policy check already read it as the tool "".
  it('a call without a function that the policy allows is counted as the tool "", not a TypeError', async () => {
    const { run } = await setup({ limit: 1 });
    const bare = { id: 'x', type: 'function' } as unknown as ChatToolCall;
    expect(run.checkToolCalls([bare, { ...bare, id: 'y' }]).map((v) => [v.call.id, v.error.code])).toEqual([['y', 'loop.repeated_tool_call']]);
  });
});
