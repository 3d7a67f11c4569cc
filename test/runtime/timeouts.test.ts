import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createGuard, createSimModel, GuardError } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

const stallRequest = { model: 'sim-small', messages: [{ role: 'user' as const, content: '[sim:stall 3] tell me a story' }] };

describe('timeouts stop the work under them', () => {
  it('a stalled stream is cut by the idle timeout and the model sees the abort', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock });
    const guard = createGuard({
      config: baseConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60000 } } }),
      clock,
      providers: { sim },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(stallRequest);
    const seen: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    await clock.advance(1999);
    expect(sim.aborts).toHaveLength(0);
    await clock.advance(2);
    const error = (await consumed) as GuardError;
    expect(GuardError.isInstance(error)).toBe(true);
    expect(error.code).toBe('timeout.idle');
    expect(seen.length).toBeGreaterThan(0);
    expect(sim.aborts).toHaveLength(1);
    expect(sim.stats.aborted).toBe(1);
    await expect(stream.result).rejects.toMatchObject({ code: 'timeout.idle' });
    // What flowed was paid for; nothing is left reserved.
    const usage = await run.usage();
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.reservedCostUsd).toBe(0);
    await guard.close();
  });

  it('a model that never sends a first token is cut by the first-token timeout', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock });
    const guard = createGuard({ config: baseConfig({ timeouts: { model: { firstTokenMs: 3000 } } }), clock, providers: { sim } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.streamModel({ ...stallRequest, messages: [{ role: 'user', content: '[sim:stall_first] hi' }] }).catch((e: unknown) => e);
    await clock.advance(3001);
    const error = (await pending) as GuardError;
    expect(error.code).toBe('timeout.first_token');
    expect(sim.aborts).toHaveLength(1);
    await guard.close();
  });

  it('a kill aborts a stream in flight', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock });
    const guard = createGuard({ config: baseConfig(), clock, providers: { sim } });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(stallRequest);
    const consumed = (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    await clock.advance(10);
    await guard.kill('tenant:acme', 'runaway spend');
    const error = (await consumed) as GuardError;
    expect(error.code).toBe('kill.switch');
    expect(error.details.scope).toBe('tenant:acme');
    expect(sim.aborts).toHaveLength(1);
    // New work in the scope is refused, in this run and in a new one.
    await expect(run.callModel(stallRequest)).rejects.toMatchObject({ code: 'kill.switch' });
    const other = await guard.startRun({ agent: 'bot' });
    await expect(other.callModel(stallRequest)).rejects.toMatchObject({ code: 'kill.switch' });
    await guard.unkill('tenant:acme');
    const fresh = await guard.startRun({ agent: 'bot' });
    await expect(fresh.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] })).resolves.toBeTruthy();
    await guard.close();
  });

  it('a non-streaming call is cut by the total timeout', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 10_000 });
    const guard = createGuard({ config: baseConfig({ timeouts: { model: { totalMs: 1000 } } }), clock, providers: { sim } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    await clock.advance(1001);
    expect(((await pending) as GuardError).code).toBe('timeout.total');
    expect(sim.aborts).toHaveLength(1);
    expect((await run.usage()).reservedCostUsd).toBe(0);
    await guard.close();
  });

  it('the run wall-time limit stops the run and aborts its call', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 60_000 });
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 5000 } }), clock, providers: { sim } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    await clock.advance(5001);
    expect(((await pending) as GuardError).code).toBe('limit.duration');
    expect(run.signal.aborted).toBe(true);
    await expect(run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'limit.duration' });
    await guard.close();
  });

  it('a tool that honours its signal is aborted at the tool timeout', async () => {
    const clock = new FakeClock();
    const guard = createGuard({ config: baseConfig({ timeouts: { tool: { totalMs: 500 } } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    let sawAbort = false;
    const pending = run
      .callTool({
        tool: 'demo.slow',
        args: {},
        execute: (_args, { signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(signal.reason);
            }),
          ),
      })
      .catch((e: unknown) => e);
    await clock.advance(501);
    expect(((await pending) as GuardError).code).toBe('timeout.tool');
    expect(sawAbort).toBe(true);
    await guard.close();
  });

  it('a tool that ignores its signal runs in a worker that is terminated at the timeout', async () => {
    const guard = createGuard({ config: baseConfig({ timeouts: { tool: { totalMs: 300 } } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const module = fileURLToPath(new URL('../fixtures/worker-tools.mjs', import.meta.url));
    const started = Date.now();
    const error = await run.callTool({ tool: 'demo.spin', args: {}, worker: { module, export: 'spin' } }).catch((e: unknown) => e);
    expect((error as GuardError).code).toBe('timeout.tool');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The process is still responsive and the run still works.
    const ok = await run.callTool({ tool: 'demo.echo', args: { x: 1 }, worker: { module }, timeoutMs: 20_000 });
    expect(ok.result).toEqual({ echoed: { x: 1 } });
    await guard.close();
  });
});
