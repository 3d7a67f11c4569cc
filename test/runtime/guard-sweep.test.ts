/**
 * The idle sweeper (`defaults.runIdleTtlMs`, `defaults.runIdleSweepMs`): a run held here that nobody
 * has sent to for the idle TTL is ended with `run.idle`; a run left `running` in the store by a
 * process that is gone is ended a sweep interval past its deadline. Fake clock throughout.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, createSimModel, type GuardEvent, type ModelProvider } from '../../src/index.ts';
import type { RunRecord } from '../../src/store/store.ts';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const TTL = 5000;
const SWEEP = 1234;

/** A fake clock that also remembers every delay it was asked for. */
class SpyClock extends FakeClock {
  delays: number[] = [];
  override setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
  /** How many sweeps have been armed (the sweep interval is used by nothing else). */
  get sweepsArmed(): number {
    return this.delays.filter((ms) => ms === SWEEP).length;
  }
}

function config(runIdleTtlMs: number, maxDurationMs = 3_600_000) {
  return baseConfig({ limits: { maxDurationMs, maxIdenticalOutputs: 1000 } }, { defaults: { retry: [], runIdleTtlMs, runIdleSweepMs: SWEEP } } as never);
}

function setup(runIdleTtlMs = TTL, maxDurationMs?: number, clock = new SpyClock(T0)) {
  const store = createMemoryStore();
  const guard = createGuard({ config: config(runIdleTtlMs, maxDurationMs), clock, store, audit: false });
  const events: GuardEvent[] = [];
  guard.on((e) => events.push(e));
  const stops = () => events.filter((e) => e.type === 'run.stopped');
  return { clock, store, guard, events, stops };
}

/** A run record some other process created and never ended. */
function orphan(id: string, deadline: number): RunRecord {
  return { id, agent: 'bot', tenant: 'acme', ancestors: [], depth: 0, startedAt: T0, deadline, status: 'running' };
}

describe('sweepIdle: runs held here', () => {
  it('ends a run idle for exactly the TTL (not a millisecond before), with run.idle in the store, the event and its next call', async () => {
    const { clock, store, guard, stops } = setup();
    const run = await guard.startRun({ agent: 'bot' });
    clock.set(T0 + TTL - 1);
    expect(await guard.sweepIdle()).toBe(0);
    expect(run.signal.aborted).toBe(false);

    clock.set(T0 + TTL);
    expect(await guard.sweepIdle()).toBe(1);
    expect(run.signal.aborted).toBe(true);
    const reason = `run ${run.id} was idle for ${TTL} ms (the idle TTL is ${TTL} ms)`;
    expect(await store.runs.get(run.id)).toMatchObject({ status: 'stopped', stopCode: 'run.idle', stopReason: reason, endedAt: T0 + TTL });
    expect(stops()).toEqual([{ type: 'run.stopped', at: T0 + TTL, runId: run.id, agent: 'bot', tenant: 'acme', code: 'run.idle', reason }]);
    await expect(run.callModel(ask('too late'))).rejects.toMatchObject({ code: 'run.idle', message: reason, details: { limit: TTL, runId: run.id } });
    expect(guard.activeRuns).toBe(0);
    // Ended once: a second sweep finds nothing.
    expect(await guard.sweepIdle()).toBe(0);
    await guard.close();
  });

  it('counts each run it ends, and keeps a run that was sent to since', async () => {
    const { clock, guard } = setup();
    const a = await guard.startRun({ agent: 'bot' });
    const b = await guard.startRun({ agent: 'bot' });
    const kept = await guard.startRun({ agent: 'bot' });
    clock.set(T0 + 3000);
    await kept.callModel(ask('still here'));
    clock.set(T0 + TTL + 10);
    expect(await guard.sweepIdle()).toBe(2);
    expect([a.signal.aborted, b.signal.aborted, kept.signal.aborted]).toEqual([true, true, false]);
    await guard.close();
  });

  it('never ends a run with a call in flight, however long the call takes', async () => {
    const clock = new SpyClock(T0);
    const sim = createSimModel({ clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: ModelProvider = {
      name: 'sim',
      complete: async (req, opts) => (await gate, sim.complete(req, opts)),
      stream: (req, opts) => sim.stream(req, opts),
    };
    const guard = createGuard({ config: config(TTL), clock, store: createMemoryStore(), audit: false, providers: { sim: slow } });
    const run = await guard.startRun({ agent: 'bot' });
    const call = run.callModel(ask('slow'));
    await flushMicrotasks();
    clock.set(T0 + 10 * TTL);
    expect(await guard.sweepIdle()).toBe(0);
    expect(run.signal.aborted).toBe(false);
    release();
    await call;
    await guard.close();
  });

  it('with runIdleTtlMs 0 nothing is swept and no sweep is armed', async () => {
    const { clock, store, guard } = setup(0, 1000);
    const run = await guard.startRun({ agent: 'bot' });
    await store.runs.create(orphan('gone@bot', T0 + 1000));
    clock.set(T0 + 100_000);
    expect(await guard.sweepIdle()).toBe(0);
    expect(run.signal.aborted).toBe(false);
    expect((await store.runs.get('gone@bot'))?.status).toBe('running');
    expect(clock.sweepsArmed).toBe(0);
    await guard.close();
  });
});

describe('sweepIdle: runs left running by a process that is gone', () => {
  it('ends one a sweep interval past its deadline (not before), with its reason and event', async () => {
    const { clock, store, guard, stops } = setup();
    await store.runs.create(orphan('gone@bot', T0 + 1000));
    clock.set(T0 + 1000 + SWEEP - 1);
    expect(await guard.sweepIdle()).toBe(0);
    expect((await store.runs.get('gone@bot'))?.status).toBe('running');
    expect(stops()).toEqual([]);

    const now = T0 + 1000 + SWEEP;
    clock.set(now);
    expect(await guard.sweepIdle()).toBe(1);
    const reason = `run gone@bot was left running by a process that is gone (its deadline passed at ${new Date(T0 + 1000).toISOString()})`;
    expect(await store.runs.get('gone@bot')).toMatchObject({ status: 'stopped', stopCode: 'run.idle', stopReason: reason, endedAt: now });
    expect(stops()).toEqual([{ type: 'run.stopped', at: now, runId: 'gone@bot', agent: 'bot', tenant: 'acme', code: 'run.idle', reason }]);
    await guard.close();
  });

  it('leaves a run this process holds to its own deadline timer, even past the deadline', async () => {
    const { clock, store, guard } = setup(TTL, 1000);
    const run = await guard.startRun({ agent: 'bot' });
    // Time jumps without firing timers: the run is past its deadline + a sweep, but not idle for the TTL.
    clock.set(T0 + 1000 + SWEEP + 1);
    expect(await guard.sweepIdle()).toBe(0);
    expect((await store.runs.get(run.id))?.status).toBe('running');
    await guard.close();
  });

  it('a held run it ends as idle past its deadline is ended and reported once, not again as left running', async () => {
    const { clock, guard, stops } = setup(TTL, 1000);
    const run = await guard.startRun({ agent: 'bot' });
    clock.set(T0 + TTL);
    expect(await guard.sweepIdle()).toBe(1);
    expect(stops().map((e) => [e.type === 'run.stopped' && e.runId, e.type === 'run.stopped' && e.code])).toEqual([[run.id, 'run.idle']]);
    await guard.close();
  });

  it('counts only the runs it ended itself (a stale list: ended elsewhere before, stopped otherwise, deleted)', async () => {
    const { clock, store, guard, stops } = setup();
    const now = T0 + 100_000;
    const stale = [orphan('idle-before@bot', T0 + 1000), orphan('killed@bot', T0 + 1000), orphan('deleted@bot', T0 + 1000)];
    await store.runs.create(stale[0]!);
    await store.runs.create(stale[1]!);
    // Another sweeper ended the first earlier; the second was stopped by a kill at this very time.
    await store.runs.end('idle-before@bot', 'stopped', now - 10, 'run.idle', 'elsewhere');
    await store.runs.end('killed@bot', 'stopped', now, 'kill.switch', 'operator');
    store.runs.list = async () => stale.map((r) => ({ ...r }));
    clock.set(now);
    expect(await guard.sweepIdle()).toBe(0);
    expect(stops()).toEqual([]);
    expect(await store.runs.get('idle-before@bot')).toMatchObject({ stopReason: 'elsewhere', endedAt: now - 10 });
    await guard.close();
  });
});

describe('the sweep timer', () => {
  it('sweeps every runIdleSweepMs on its own, again and again', async () => {
    const { clock, guard } = setup();
    expect(clock.sweepsArmed).toBe(1);
    const first = await guard.startRun({ agent: 'bot' });
    await clock.advance(4 * SWEEP); // T0 + 4936: idle 4936 < TTL
    expect(first.signal.aborted).toBe(false);
    await clock.advance(SWEEP); // the sweep at T0 + 6170 ends it
    expect(first.signal.aborted).toBe(true);
    const second = await guard.startRun({ agent: 'bot' });
    await clock.advance(6 * SWEEP);
    expect(second.signal.aborted).toBe(true);
    expect(clock.sweepsArmed).toBe(12);
    await guard.close();
  });

  it('is not armed again when the guard closes during a sweep', async () => {
    const { clock, store, guard } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const list = store.runs.list.bind(store.runs);
    let listing = 0;
    store.runs.list = async (filter) => {
      listing++;
      await gate;
      return list(filter);
    };
    await clock.advance(SWEEP);
    expect(listing).toBe(1);
    await guard.close();
    release();
    await flushMicrotasks();
    expect(clock.sweepsArmed).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('a clock whose timers have no handle is accepted', async () => {
    class NoHandleClock extends FakeClock {
      override setTimeout(fn: () => void, ms: number): unknown {
        super.setTimeout(fn, ms);
        return undefined;
      }
    }
    const { guard } = setup(TTL, undefined, new NoHandleClock(T0) as SpyClock);
    await guard.close();
  });
});
