/**
 * Guard.kill / unkill / onKillChange, stopRun and endRun: which scopes a kill switch accepts, what it
 * reports (once, even when the store echoes it back), what it stops and with which message; what a
 * stopped or ended run leaves in the store, and that a run ends once.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardEvent } from '../../src/index.ts';
import { guardError } from '../../src/core/errors.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const clock = new FakeClock(T0);
  const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 3_600_000 } }), clock });
  const events: GuardEvent[] = [];
  guard.on((e) => events.push(e));
  const of = <T extends GuardEvent['type']>(type: T) => events.filter((e) => e.type === type) as Extract<GuardEvent, { type: T }>[];
  return { clock, guard, events, of };
}

describe('kill switches', () => {
  it('a kill stops the runs under it with its scope and reason, once, and is stored with who set it', async () => {
    const { clock, guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'r' });
    const other = await guard.startRun({ agent: 'bot', id: 'o' });
    await guard.kill('run:r@bot');
    // The memory store echoes the switch back to its subscriber (this guard): still one event, one stop.
    expect(of('kill')).toEqual([{ type: 'kill', at: T0, scope: 'run:r@bot', on: true, reason: 'killed by an operator', by: 'operator' }]);
    const message = 'stopped by the kill switch on run:r@bot: killed by an operator';
    expect([run.stopError?.code, run.stopError?.message, run.stopError?.details]).toEqual(['kill.switch', message, { scope: 'run:r@bot', runId: 'r@bot' }]);
    expect(other.signal.aborted).toBe(false);
    expect([...(await guard.store.kills.list())]).toEqual([['run:r@bot', { reason: 'killed by an operator', by: 'operator', at: T0 }]]);
    expect(await guard.store.runs.get('r@bot')).toMatchObject({ status: 'stopped', stopCode: 'kill.switch', stopReason: message, endedAt: T0 });
    expect(of('run.stopped')).toEqual([{ type: 'run.stopped', at: T0, runId: 'r@bot', agent: 'bot', tenant: 'acme', code: 'kill.switch', reason: message }]);

    // Set again later, with another reason: reported again.
    await clock.advance(5);
    await guard.kill('run:r@bot', 'still looping', 'alice');
    expect(of('kill').slice(1)).toEqual([{ type: 'kill', at: T0 + 5, scope: 'run:r@bot', on: true, reason: 'still looping', by: 'alice' }]);
    await guard.close();
  });

  it('a kill on an agent aborts its call in flight at once', async () => {
    const { clock, guard } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'busy' });
    const call = run.callModel(ask('[sim:stall_first] x')).catch((e: unknown) => e);
    await clock.advance(1);
    await guard.kill('agent:bot', 'halt', 'ops');
    expect(await call).toMatchObject({
      code: 'kill.switch',
      message: 'stopped by the kill switch on agent:bot: halt',
      details: { scope: 'agent:bot', runId: 'busy@bot' },
    });
    await guard.close();
  });

  it('clearing a switch is reported once; clearing one that is not set reports nothing', async () => {
    const { clock, guard, of } = setup();
    await guard.kill('tenant:acme', 'pause');
    await clock.advance(7);
    await guard.unkill('tenant:acme');
    await guard.unkill('tenant:acme');
    await guard.unkill('agent:nobody');
    expect(of('kill').map((e) => ({ ...e }))).toEqual([
      { type: 'kill', at: T0, scope: 'tenant:acme', on: true, reason: 'pause', by: 'operator' },
      { type: 'kill', at: T0 + 7, scope: 'tenant:acme', on: false },
    ]);
    expect((await guard.store.kills.list()).size).toBe(0);
    // Cleared: new runs of the tenant work again.
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('x'))).resolves.toBeTruthy();
    await guard.close();
  });

  it('refuses what is not a kill scope, and stores nothing', async () => {
    const { guard, of } = setup();
    for (const scope of ['model:sim-small', 'xglobal', 'globalx', 'tenant:', 'run', '']) {
      await expect(guard.kill(scope)).rejects.toMatchObject({
        code: 'request.invalid',
        message: `not a kill scope: "${scope}" (expected global, tenant:<id>, agent:<id> or run:<id>)`,
        details: { param: 'scope' },
      });
    }
    expect((await guard.store.kills.list()).size).toBe(0);
    expect(of('kill')).toEqual([]);
    await guard.kill('global', 'all');
    expect([...(await guard.store.kills.list()).keys()]).toEqual(['global']);
    await guard.close();
  });
});

describe('stopping and ending runs', () => {
  it('a run of its own that is stopped is written to the store whole', async () => {
    const { clock, guard } = setup();
    const run = await guard.startRun({ agent: 'bot', local: true });
    expect(await guard.store.runs.get(run.id)).toBeUndefined();
    await clock.advance(3);
    await run.stop('enough');
    expect(await guard.store.runs.get(run.id)).toEqual({
      id: run.id,
      agent: 'bot',
      tenant: 'acme',
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + 3_600_000,
      status: 'stopped',
      stopCode: 'kill.switch',
      stopReason: 'enough',
      endedAt: T0 + 3,
    });
    await guard.close();
  });

  it('a run of its own that ends normally leaves nothing in the store', async () => {
    const { guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', local: true });
    await run.end();
    expect(await guard.store.runs.get(run.id)).toBeUndefined();
    expect(of('run.ended')).toEqual([{ type: 'run.ended', at: T0, runId: run.id, agent: 'bot', tenant: 'acme' }]);
    await guard.close();
  });

  it('a run ends once: completed in the store, one run.ended; ending a stopped run changes nothing', async () => {
    const { clock, guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'fin' });
    await clock.advance(2);
    await guard.endRun(run);
    await guard.endRun(run);
    expect(await guard.store.runs.get('fin@bot')).toMatchObject({ status: 'completed', endedAt: T0 + 2 });
    expect(of('run.ended')).toEqual([{ type: 'run.ended', at: T0 + 2, runId: 'fin@bot', agent: 'bot', tenant: 'acme' }]);
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'request.invalid', message: 'the run has ended' });

    const stopped = await guard.startRun({ agent: 'bot', id: 'halted' });
    await stopped.stop('no more');
    await stopped.end();
    expect(await guard.store.runs.get('halted@bot')).toMatchObject({ status: 'stopped', stopCode: 'kill.switch', stopReason: 'no more' });
    expect(of('run.ended')).toHaveLength(1);
    await expect(stopped.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', message: 'no more' });
    await guard.close();
  });

  it('a run whose call was interrupted by a shutdown still ends normally, once', async () => {
    const { clock, guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'cut' });
    const call = run.callModel(ask('[sim:stall_first] x')).catch((e: unknown) => e);
    await clock.advance(1);
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'going away'))).toBe(1);
    expect(await call).toMatchObject({ code: 'gateway.shutting_down', message: 'going away' });
    // Not stopped in the store: another replica may resume it.
    expect(await guard.store.runs.get('cut@bot')).toMatchObject({ status: 'running' });
    await clock.advance(1);
    await run.end();
    await run.end();
    expect(await guard.store.runs.get('cut@bot')).toMatchObject({ status: 'completed', endedAt: T0 + 2 });
    expect(of('run.ended')).toEqual([{ type: 'run.ended', at: T0 + 2, runId: 'cut@bot', agent: 'bot', tenant: 'acme' }]);
    expect(of('run.stopped')).toEqual([]);
    await guard.close();
  });
});
