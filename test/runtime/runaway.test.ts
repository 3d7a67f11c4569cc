import { describe, expect, it } from 'vitest';
import { createGuard, GuardError } from '../../src/index.ts';
import { agentLoop } from './agent-loop.ts';
import { baseConfig } from './fixtures.ts';

async function stopOf(promise: Promise<unknown>): Promise<GuardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!GuardError.isInstance(error)) throw new Error(`expected a GuardError, got ${String(error)}`);
  return error;
}

describe('a runaway agent is stopped', () => {
  it('by the step limit', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxSteps: 5, maxIdenticalOutputs: 100 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const error = await stopOf(agentLoop(run, { model: 'sim-small', prompt: '[sim:refine] write a haiku' }));
    expect(error.code).toBe('limit.steps');
    expect(error.details).toMatchObject({ limit: 5 });
    expect((await run.usage()).steps).toBe(5);
    await guard.close();
  });

  it('by the cost limit', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxCostUsd: 0.05, maxSteps: 1000, maxIdenticalOutputs: 100 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const error = await stopOf(agentLoop(run, { model: 'sim-pricey', prompt: '[sim:refine] write an essay' }));
    expect(error.code).toBe('limit.cost');
    expect(error.details.limit).toBe(0.05);
    const usage = await run.usage();
    expect(usage.costUsd).toBeLessThanOrEqual(0.05);
    expect(usage.costUsd).toBeGreaterThan(0.03);
    await guard.close();
  });

  it('by loop detection on repeated tool calls', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: 3, maxIdenticalOutputs: 10 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const error = await stopOf(agentLoop(run, { model: 'sim-small', prompt: '[sim:tool_loop] find it' }));
    expect(error.code).toBe('loop.repeated_tool_call');
    expect(run.signal.aborted).toBe(true);
    expect((await run.usage()).toolCalls).toBe(3);
    // The run is over: later calls get the same stop.
    const again = await stopOf(run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }));
    expect(again.code).toBe('loop.repeated_tool_call');
    await guard.close();
  });

  it('by no-progress detection when the model repeats itself', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalOutputs: 3 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const error = await stopOf(agentLoop(run, { model: 'sim-small', prompt: '[sim:no_progress] write' }));
    expect(error.code).toBe('loop.no_progress');
    // maxIdenticalOutputs: 3 allows 3 identical outputs; the 4th is refused (issue 12 item 9), and charged.
    expect(error.details).toMatchObject({ limit: 3, used: 4, charged: true });
    expect((await run.usage()).steps).toBe(4);
    await guard.close();
  });

  it('by repeated errors', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxConsecutiveErrors: 3 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const error = await stopOf(
        run.callTool({
          tool: 'demo.flaky',
          args: { i },
          execute: () => {
            throw new Error('boom');
          },
        }),
      );
      codes.push(error.code);
    }
    // maxConsecutiveErrors: 3 allows 3 failures in a row; the 4th stops the run (issue 12 item 9).
    expect(codes).toEqual(['upstream.error', 'upstream.error', 'upstream.error', 'loop.repeated_error', 'loop.repeated_error']);
    await guard.close();
  });
});
