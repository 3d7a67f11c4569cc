import { describe, expect, it } from 'vitest';
import { createGuard, type ChatMessage, type GuardError, type GuardEvent } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 12 item 9: `maxX: N` allows N and stops the (N+1)th, for every limit and detector. Each case
 * makes N calls that succeed, then shows the (N+1)th stopped with the limit's code.
 */
const N = 3;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );
const tool = (name: string, args: unknown = {}, execute: () => unknown = () => 'done') => ({ tool: name, args, execute });
const boom = () => {
  throw new Error('boom');
};

describe('maxX: N allows N and stops the (N+1)th (issue 12 item 9)', () => {
  it('maxSteps', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxSteps: N, maxIdenticalOutputs: 100 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    for (let i = 0; i <= N; i++) codes.push(await outcome(run.callModel(ask(`step ${i}`))));
    expect(codes).toEqual(['ok', 'ok', 'ok', 'limit.steps']);
    await guard.close();
  });

  it('maxToolCalls', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxToolCalls: N } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    for (let i = 0; i <= N; i++) codes.push(await outcome(run.callTool(tool('demo.search', { i }))));
    expect(codes).toEqual(['ok', 'ok', 'ok', 'limit.tool_calls']);
    await guard.close();
  });

  it('maxToolCallsPerTool', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxToolCallsPerTool: { 'demo.search': N } } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    for (let i = 0; i <= N; i++) codes.push(await outcome(run.callTool(tool('demo.search', { i }))));
    expect(codes).toEqual(['ok', 'ok', 'ok', 'limit.tool_calls']);
    await guard.close();
  });

  it('maxIdenticalToolCalls (the calls themselves)', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: N } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    for (let i = 0; i <= N; i++) codes.push(await outcome(run.callTool(tool('demo.search', { q: 'same' }))));
    expect(codes).toEqual(['ok', 'ok', 'ok', 'loop.repeated_tool_call']);
    await guard.close();
  });

  it('maxIdenticalToolCalls (in the conversation sent to the model)', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: N } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const turns = (count: number): ChatMessage[] => {
      const messages: ChatMessage[] = [{ role: 'user', content: 'find it' }];
      for (let i = 0; i < count; i++) {
        const id = `call_${i}`;
        messages.push({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'search', arguments: '{"q":"same"}' } }] });
        messages.push({ role: 'tool', tool_call_id: id, content: 'nothing' });
      }
      return messages;
    };
    expect(await outcome(run.callModel({ model: 'sim-small', messages: turns(N) }))).toBe('ok');
    expect(await outcome(run.callModel({ model: 'sim-small', messages: turns(N + 1) }))).toBe('loop.repeated_tool_call');
    await guard.close();
  });

  it('maxIdenticalOutputs: the (N+1)th identical output is refused — it stopped at the Nth — and it is charged, saying so', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalOutputs: N } }) });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    let stop: GuardError | undefined;
    for (let i = 0; i <= N; i++) {
      codes.push(
        await run.callModel(ask('[sim:no_progress] draft')).then(
          () => 'ok',
          (e: GuardError) => {
            stop = e;
            return e.code;
          },
        ),
      );
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'loop.no_progress']);
    const usage = await run.usage();
    expect(usage.steps).toBe(N + 1);
    // The refused response was generated: its cost is in the run's spend, the error and the stop event.
    const allowed = events.filter((e) => e.type === 'call.allowed');
    expect(allowed).toHaveLength(N + 1);
    const lastCost = (allowed[N] as { costUsd: number }).costUsd;
    expect(lastCost).toBeGreaterThan(0);
    expect(stop!.details).toMatchObject({ limit: N, used: N + 1, charged: true, chargedUsd: lastCost });
    expect(stop!.message).toMatch(/generated and charged/);
    const stopped = events.find((e) => e.type === 'run.stopped') as { reason: string } | undefined;
    expect(stopped?.reason).toMatch(/generated and charged/);
    await guard.close();
  });

  it('maxConsecutiveErrors: N failed tool calls are reported as themselves; the (N+1)th stops the run', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxConsecutiveErrors: N } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes = [];
    for (let i = 0; i <= N; i++) codes.push(await outcome(run.callTool(tool('demo.flaky', { i }, boom))));
    expect(codes).toEqual(['upstream.error', 'upstream.error', 'upstream.error', 'loop.repeated_error']);
    // A success in between resets the count.
    const guard2 = createGuard({ config: baseConfig({ limits: { maxConsecutiveErrors: N } }) });
    const run2 = await guard2.startRun({ agent: 'bot' });
    const codes2 = [];
    for (let i = 0; i < N; i++) codes2.push(await outcome(run2.callTool(tool('demo.flaky', { i }, boom))));
    codes2.push(await outcome(run2.callTool(tool('demo.ok'))));
    for (let i = 0; i < N; i++) codes2.push(await outcome(run2.callTool(tool('demo.flaky', { j: i }, boom))));
    expect(codes2).toEqual(['upstream.error', 'upstream.error', 'upstream.error', 'ok', 'upstream.error', 'upstream.error', 'upstream.error']);
    await guard.close();
    await guard2.close();
  });

  it('maxDepth: sub-runs down to depth N start; depth N+1 is refused', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxDepth: N } }) });
    let parent = await guard.startRun({ agent: 'bot' });
    const codes: string[] = [];
    for (let depth = 1; depth <= N + 1; depth++) {
      const child = await guard.startRun({ agent: 'bot', parentId: parent.id }).then(
        (r) => r,
        (e: GuardError) => e,
      );
      if ('code' in child) codes.push(child.code);
      else {
        codes.push('ok');
        parent = child;
      }
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'limit.depth']);
    await guard.close();
  });
});
