/**
 * Guard.newRunRecord and Guard.attach: what a new run's record holds (ancestors, depth, deadline),
 * why a sub-run is refused (unknown or ended parent, its own depth limit, an ancestor's), which
 * ancestors a sub-run's calls count against, and which runs the process holds.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, type GuardError, type GuardEvent } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('a new run record', () => {
  it('a root run has no ancestors; a sub-run lists them nearest first and never outlives its parent', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 10_000, maxDepth: 3 } }), clock });
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    expect(await guard.store.runs.get('root@bot')).toEqual({
      id: 'root@bot',
      agent: 'bot',
      tenant: 'acme',
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + 10_000,
      status: 'running',
    });
    await clock.advance(4_000);
    const child = await root.subRun({ id: 'child' });
    const grandchild = await child.subRun({ id: 'grandchild' });
    // Its own deadline would be T0 + 14 000: the parent's comes first.
    expect(await guard.store.runs.get('child@bot')).toEqual({
      id: 'child@bot',
      agent: 'bot',
      tenant: 'acme',
      parentId: 'root@bot',
      ancestors: ['root@bot'],
      depth: 1,
      startedAt: T0 + 4_000,
      deadline: T0 + 10_000,
      status: 'running',
    });
    expect(await guard.store.runs.get('grandchild@bot')).toMatchObject({ parentId: 'child@bot', ancestors: ['child@bot', 'root@bot'], depth: 2 });
    expect([root.parentId, child.parentId, grandchild.depth]).toEqual([undefined, 'root@bot', 2]);
    // Nothing but its own kill scopes and its ancestors' stop a run: a kill on an unrelated run name does not.
    await guard.kill('run:Stryker was here');
    expect(root.signal.aborted).toBe(false);
    await guard.close();
  });

  it('refuses an unknown parent, an ended one (with its stop code) and a sub-run past its own depth limit', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxDepth: 1 } }) });
    await expect(guard.startRun({ agent: 'bot', parentId: 'nope' })).rejects.toMatchObject({
      code: 'request.invalid',
      message: 'unknown parent run "nope@bot"',
      details: { param: 'parent' },
    });

    const done = await guard.startRun({ agent: 'bot', id: 'done' });
    await done.end();
    await expect(guard.startRun({ agent: 'bot', parentId: 'done' })).rejects.toMatchObject({
      code: 'request.invalid',
      message: 'parent run done@bot has ended',
      details: { runId: 'done@bot' },
    });
    const stopped = await guard.startRun({ agent: 'bot', id: 'stopped' });
    await stopped.stop('enough');
    await expect(guard.startRun({ agent: 'bot', parentId: 'stopped' })).rejects.toMatchObject({
      code: 'kill.switch',
      message: 'parent run stopped@bot has ended',
      details: { runId: 'stopped@bot' },
    });

    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const child = await root.subRun({ id: 'child' });
    const refused = (await child.subRun({ id: 'deep' }).catch((e: unknown) => e)) as GuardError;
    expect([refused.code, refused.message, refused.details]).toEqual([
      'limit.depth',
      'sub-run depth 2 exceeds the limit of 1',
      { limit: 1, used: 2, runId: 'child@bot' },
    ]);
    await guard.close();
  });

  it("an ancestor's own depth limit counts from that ancestor's depth", async () => {
    const config = baseConfig({}, {
      agents: {
        bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'] }, limits: { maxDepth: 5 }, delegatesTo: ['boss'] },
        boss: { tenant: 'acme', keys: ['sk-test-boss-001'], allow: { models: ['*'] }, limits: { maxDepth: 1 }, delegatesTo: ['bot'] },
      },
    } as never);
    const guard = createGuard({ config });
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const mid = await root.subRun({ agent: 'boss', id: 'mid' });
    // Depth 2 is one below mid (depth 1): within boss's limit of 1.
    const low = await mid.subRun({ agent: 'bot', id: 'low' });
    expect([mid.depth, low.depth]).toEqual([1, 2]);
    // Depth 3 is two below mid: refused for mid's agent, though bot itself allows 5.
    const refused = (await low.subRun({ id: 'lower' }).catch((e: unknown) => e)) as GuardError;
    expect([refused.code, refused.message, refused.details]).toEqual([
      'limit.depth',
      'sub-run depth 2 below run mid@boss exceeds its limit of 1',
      { limit: 1, used: 2, runId: 'mid@boss' },
    ]);
    expect(await guard.store.runs.get('lower@bot')).toBeUndefined();
    await guard.close();
  });
});

describe('attaching a run', () => {
  it('a sub-run started in another process counts against its parent there too', async () => {
    const store = createMemoryStore();
    const config = baseConfig({ limits: { maxIdenticalOutputs: 100 } });
    const here = createGuard({ config, store });
    const there = createGuard({ config, store });
    const root = await here.startRun({ agent: 'bot', id: 'root' });
    const child = await there.startRun({ agent: 'bot', id: 'child', parentId: 'root' });
    await child.callModel(ask('counted twice'));
    expect([(await root.usage()).steps, (await child.usage()).steps]).toEqual([1, 1]);
    await here.close();
    await there.close();
  });

  it('two concurrent starts of one run share one handle: stopping one stops the other', async () => {
    const guard = createGuard({ config: baseConfig() });
    const [a, b] = await Promise.all([guard.startRun({ agent: 'bot', id: 'twin' }), guard.startRun({ agent: 'bot', id: 'twin' })]);
    expect(guard.activeRuns).toBe(1);
    await a.stop('one stop');
    expect(b.signal.aborted).toBe(true);
    await expect(b.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', message: 'one stop' });
    await guard.close();
  });

  it('resuming an ended run holds nothing in the process and refuses its calls', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot', id: 'over' });
    expect(guard.activeRuns).toBe(1);
    await run.end();
    expect(guard.activeRuns).toBe(0);
    const again = await guard.startRun({ agent: 'bot', id: 'over' });
    expect(guard.activeRuns).toBe(0);
    await expect(again.callModel(ask('x'))).rejects.toMatchObject({ code: 'request.invalid', message: 'the run has ended' });
    await guard.close();
  });

  it('at its wall-time limit a run is stopped with limit.duration, stored and reported', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 1_000 } }), clock });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const run = await guard.startRun({ agent: 'bot', id: 'timed' });
    await clock.advance(999);
    expect(run.signal.aborted).toBe(false);
    await clock.advance(1);
    const message = 'run timed@bot reached its wall-time limit of 1000 ms';
    expect([run.stopError?.code, run.stopError?.message, run.stopError?.details]).toEqual(['limit.duration', message, { limit: 1_000, runId: 'timed@bot' }]);
    expect(await guard.store.runs.get('timed@bot')).toMatchObject({ status: 'stopped', stopCode: 'limit.duration', stopReason: message, endedAt: T0 + 1_000 });
    expect(events.filter((e) => e.type === 'run.stopped')).toEqual([
      { type: 'run.stopped', at: T0 + 1_000, runId: 'timed@bot', agent: 'bot', tenant: 'acme', code: 'limit.duration', reason: message },
    ]);
    expect(guard.activeRuns).toBe(0);
    await guard.close();
  });
});
