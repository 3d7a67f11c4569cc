/**
 * src/runtime/run-handle.ts: the RunHandle constructed directly (its fields, kill scopes, the stop a
 * stored record carries, activity, the deadline timer, markStopped, assertRunning) and driven through
 * the Guard (the deadline stopping a run, the wall-time check on a call, ending interrupted and
 * stopped runs), with whole objects and exact errors.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GuardError as CoreGuardError, guardError } from '../../src/core/errors.ts';
import { createGuard, createMemoryStore, type Guard, type GuardEvent } from '../../src/index.ts';
import { GuardError, RunHandle } from '../../src/runtime/run-handle.ts';
import type { RunRecord } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

const config = parseConfig(baseConfig({ limits: { maxDurationMs: MINUTE, maxIdenticalOutputs: 100 } }));
const agent = config.agents.bot!;
const store = createMemoryStore();
afterAll(() => store.close());

function record(over: Partial<RunRecord> = {}): RunRecord {
  return { id: 'job@bot', agent: 'bot', tenant: 'acme', ancestors: [], depth: 0, startedAt: T0, deadline: T0 + MINUTE, status: 'running', ...over };
}

function handle(over: Partial<RunRecord> = {}, local?: boolean) {
  const rec = record(over);
  const chain = [{ runId: rec.id, limits: agent.limits }];
  return local === undefined ? new RunHandle(rec, agent, undefined, chain, store.ledger) : new RunHandle(rec, agent, undefined, chain, store.ledger, local);
}

const plain = (e: unknown) => {
  const err = e as { name: string; code: string; message: string; details: unknown };
  return { name: err.name, code: err.code, message: err.message, details: err.details };
};

const thrown = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return 'no throw';
};

/** A Clock that records what the handle asks of it; its timers never fire. */
function recordingClock(now: number, timer: () => unknown) {
  const log: unknown[][] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      log.push(['setTimeout', typeof fn, ms]);
      return timer();
    },
    clearTimeout: (h) => {
      log.push(['clearTimeout', h]);
    },
  };
  return { clock, log };
}

describe('RunHandle, constructed', () => {
  it('a running record: every field as given, no stop, an unlimited signal', () => {
    const key = { id: 'key_1', budgets: [], rateLimits: {} } as never;
    const rec = record({ ancestors: ['p@bot', 'gp@bot'], depth: 2, parentId: 'p@bot', startedAt: T0 - 5 });
    const chain = [{ runId: rec.id, limits: agent.limits }];
    const h = new RunHandle(rec, agent, key, chain, store.ledger);
    expect(h.record).toBe(rec);
    expect(h.agent).toBe(agent);
    expect(h.key).toBe(key);
    expect(h.keyId).toBe('key_1');
    expect(h.chain).toBe(chain);
    expect(h.ledger).toBe(store.ledger);
    expect(h.id).toBe('job@bot');
    expect(h.killScopes).toEqual(['global', 'tenant:acme', 'agent:bot', 'run:job@bot', 'run:p@bot', 'run:gp@bot']);
    expect({
      local: h.local,
      lastActiveAt: h.lastActiveAt,
      clock: h.clock,
      active: h.active,
      localSteps: h.localSteps,
      localCostNano: h.localCostNano,
      toolCalls: h.toolCalls,
      budgetCache: h.budgetCache,
      interrupted: h.interrupted,
      ended: h.ended,
      stopped: h.stopped,
      aborted: h.signal.aborted,
    }).toEqual({
      local: false,
      lastActiveAt: T0 - 5,
      clock: undefined,
      active: 0,
      localSteps: 0,
      localCostNano: 0,
      toolCalls: undefined,
      budgetCache: undefined,
      interrupted: false,
      ended: false,
      stopped: undefined,
      aborted: false,
    });
    expect(h.signal).toBe(h.signal);
  });

  it('hundreds of concurrent calls may listen to the signal: no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const h = handle();
      for (let i = 0; i < 200; i++) h.signal.addEventListener('abort', () => {});
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('AbortSignal'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('no key: no key id; a root run has the four base scopes; local is passed through', () => {
    const h = handle();
    expect([h.key, h.keyId]).toEqual([undefined, undefined]);
    expect(h.killScopes).toEqual(['global', 'tenant:acme', 'agent:bot', 'run:job@bot']);
    expect(handle({}, true).local).toBe(true);
    expect(handle({}, false).local).toBe(false);
  });

  it('a stopped record: stopped from the start with its stored code and reason, the signal aborted with it', () => {
    const h = handle({ status: 'stopped', stopCode: 'limit.cost', stopReason: 'spent it all', endedAt: T0 + 1 });
    expect(plain(h.stopped)).toEqual({ name: 'GuardError', code: 'limit.cost', message: 'spent it all', details: { runId: 'job@bot' } });
    expect(h.stopped).toBeInstanceOf(CoreGuardError);
    expect(h.signal.aborted).toBe(true);
    expect(h.signal.reason).toBe(h.stopped);
  });

  it('a stopped record without code or reason: kill.switch, "the run was stopped"', () => {
    const h = handle({ status: 'stopped' });
    expect(plain(h.stopped)).toEqual({ name: 'GuardError', code: 'kill.switch', message: 'the run was stopped', details: { runId: 'job@bot' } });
    expect(h.signal.aborted).toBe(true);
  });

  it('a completed record: request.invalid, "the run has ended" (its stop fields ignored)', () => {
    const h = handle({ status: 'completed', stopCode: 'limit.cost', stopReason: 'ignored' });
    expect(plain(h.stopped)).toEqual({ name: 'GuardError', code: 'request.invalid', message: 'the run has ended', details: { runId: 'job@bot' } });
    expect(h.signal.reason).toBe(h.stopped);
  });

  it('re-exports the one GuardError class', () => {
    expect(GuardError).toBe(CoreGuardError);
  });
});

describe('activity', () => {
  it('setting active without a clock keeps lastActiveAt; with one, stamps it', () => {
    const h = handle();
    h.active = 3;
    expect([h.active, h.lastActiveAt]).toEqual([3, T0]);
    const clock = new FakeClock(T0 + 500);
    h.clock = clock;
    h.active = 2;
    expect([h.active, h.lastActiveAt]).toEqual([2, T0 + 500]);
    clock.set(T0 + 900);
    h.active--;
    expect([h.active, h.lastActiveAt]).toEqual([1, T0 + 900]);
  });
});

describe('markStopped', () => {
  it('the first stop wins: true once, then false; the signal keeps the first reason', () => {
    const h = handle();
    const first = guardError('kill.switch', 'first');
    const second = guardError('limit.cost', 'second');
    let aborts = 0;
    h.signal.addEventListener('abort', () => aborts++);
    expect(h.markStopped(first)).toBe(true);
    expect(h.markStopped(second)).toBe(false);
    expect([h.stopped, h.signal.reason, aborts]).toEqual([first, first, 1]);
    expect(h.stopped).toBe(first);
  });

  it('a handle stopped by its record refuses a later stop', () => {
    const h = handle({ status: 'completed' });
    expect(h.markStopped(guardError('kill.switch', 'late'))).toBe(false);
    expect(h.stopped!.code).toBe('request.invalid');
  });
});

describe('assertRunning', () => {
  it('passes before the deadline; at and after it throws limit.duration with the limit and the time used', () => {
    const h = handle({ startedAt: T0 - 100, deadline: T0 + MINUTE });
    expect(thrown(() => h.assertRunning(T0 + MINUTE - 1))).toBe('no throw');
    const at = thrown(() => h.assertRunning(T0 + MINUTE));
    expect(at).toBeInstanceOf(CoreGuardError);
    expect(plain(at)).toEqual({
      name: 'GuardError',
      code: 'limit.duration',
      message: 'run job@bot reached its wall-time limit',
      details: { runId: 'job@bot', limit: MINUTE, used: MINUTE + 100 },
    });
    expect(plain(thrown(() => h.assertRunning(T0 + MINUTE + 7)))).toMatchObject({ details: { used: MINUTE + 107 } });
    // Checking does not stop the run.
    expect(h.stopped).toBeUndefined();
  });

  it('a stopped run throws its stop error, before and after the deadline', () => {
    const h = handle();
    const stop = guardError('kill.switch', 'halt');
    h.markStopped(stop);
    expect(thrown(() => h.assertRunning(T0))).toBe(stop);
    expect(thrown(() => h.assertRunning(T0 + 2 * MINUTE))).toBe(stop);
  });
});

describe('the deadline timer', () => {
  it('fires exactly at the deadline on the clock, once', async () => {
    const clock = new FakeClock(T0 + 10_000);
    const h = handle();
    let fired = 0;
    h.armDeadline(clock, () => fired++);
    expect(clock.pending).toBe(1);
    await clock.advance(MINUTE - 10_000 - 1);
    expect(fired).toBe(0);
    await clock.advance(1);
    expect(fired).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('a deadline already past fires at once, asked with 0 ms', async () => {
    const { clock, log } = recordingClock(T0 + MINUTE + 5000, () => 7);
    handle().armDeadline(clock, () => {});
    expect(log).toEqual([['setTimeout', 'function', 0]]);
    const fake = new FakeClock(T0 + MINUTE + 5000);
    let fired = 0;
    handle().armDeadline(fake, () => fired++);
    await fake.advance(0);
    expect(fired).toBe(1);
  });

  it('asks for the time left, and unrefs a timer that can be unref’d', () => {
    let unrefs = 0;
    const { clock, log } = recordingClock(T0 + 1000, () => ({ unref: () => unrefs++ }));
    handle().armDeadline(clock, () => {});
    expect(log).toEqual([['setTimeout', 'function', MINUTE - 1000]]);
    expect(unrefs).toBe(1);
    // A timer with no unref, or no timer object at all, is fine.
    expect(thrown(() => handle().armDeadline(recordingClock(T0, () => ({})).clock, () => {}))).toBe('no throw');
    expect(thrown(() => handle().armDeadline(recordingClock(T0, () => undefined).clock, () => {}))).toBe('no throw');
    expect(thrown(() => handle().armDeadline(recordingClock(T0, () => 3).clock, () => {}))).toBe('no throw');
  });

  it('a real timer is unref’d: it does not keep the process alive', () => {
    const timers: NodeJS.Timeout[] = [];
    const clock: Clock = {
      now: () => T0,
      setTimeout: (fn, ms) => {
        const t = setTimeout(fn, ms);
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
    };
    const h = handle();
    try {
      h.armDeadline(clock, () => {});
      expect(timers.map((t) => t.hasRef())).toEqual([false]);
    } finally {
      h.disarm(clock);
      for (const t of timers) clearTimeout(t);
    }
  });

  it('disarm clears the armed timer once; with none armed it asks nothing', async () => {
    const { clock, log } = recordingClock(T0, () => 'timer-1');
    const h = handle();
    h.disarm(clock);
    expect(log).toEqual([]);
    h.armDeadline(clock, () => {});
    h.disarm(clock);
    h.disarm(clock);
    expect(log).toEqual([
      ['setTimeout', 'function', MINUTE],
      ['clearTimeout', 'timer-1'],
    ]);
    const fake = new FakeClock(T0);
    const f = handle();
    let fired = 0;
    f.armDeadline(fake, () => fired++);
    f.disarm(fake);
    expect(fake.pending).toBe(0);
    await fake.advance(2 * MINUTE);
    expect(fired).toBe(0);
  });
});

describe('through the Guard', () => {
  let open: Guard[] = [];
  afterEach(async () => {
    for (const g of open) await g.close();
    open = [];
  });

  function setup() {
    const clock = new FakeClock(T0);
    const memory = createMemoryStore();
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: MINUTE, maxIdenticalOutputs: 100 } }), clock, store: memory, audit: false });
    open.push(guard);
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const of = <T extends GuardEvent['type']>(type: T) => events.filter((e): e is Extract<GuardEvent, { type: T }> => e.type === type);
    return { clock, memory, guard, events, of };
  }

  it('the deadline stops the run with limit.duration: the record, run.stopped, the signal', async () => {
    const { clock, memory, guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(run.handle.clock).toBe(clock);
    await clock.advance(MINUTE - 1);
    expect(run.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(run.signal.aborted).toBe(true);
    expect(plain(run.stopError)).toEqual({
      name: 'GuardError',
      code: 'limit.duration',
      message: `run job@bot reached its wall-time limit of ${MINUTE} ms`,
      details: { limit: MINUTE, runId: 'job@bot' },
    });
    expect(of('run.stopped')).toEqual([
      {
        type: 'run.stopped',
        at: T0 + MINUTE,
        runId: 'job@bot',
        agent: 'bot',
        tenant: 'acme',
        code: 'limit.duration',
        reason: `run job@bot reached its wall-time limit of ${MINUTE} ms`,
      },
    ]);
    expect(await memory.runs.get('job@bot')).toEqual({
      ...record(),
      status: 'stopped',
      stopCode: 'limit.duration',
      stopReason: `run job@bot reached its wall-time limit of ${MINUTE} ms`,
      endedAt: T0 + MINUTE,
    });
    expect(guard.activeRuns).toBe(0);
  });

  it('a call at the deadline, before its timer fired, is refused by the wall-time check', async () => {
    const { clock, guard } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    clock.set(T0 + MINUTE + 3);
    const error = await run.callModel(ask('late')).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(plain(error)).toEqual({
      name: 'GuardError',
      code: 'limit.duration',
      message: 'run job@bot reached its wall-time limit',
      details: { runId: 'job@bot', limit: MINUTE, used: MINUTE + 3 },
    });
  });

  it('a call starting and finishing stamps lastActiveAt with the clock', async () => {
    const { clock, guard } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(run.handle.lastActiveAt).toBe(T0);
    await clock.advance(1234);
    await run.callModel(ask('now'));
    expect(run.handle.lastActiveAt).toBe(T0 + 1234);
    expect(run.handle.active).toBe(0);
  });

  it('ending a stopped run does nothing: no run.ended, the record stays stopped', async () => {
    const { guard, memory, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    await run.stop('halt');
    await run.end();
    expect(of('run.ended')).toEqual([]);
    expect((await memory.runs.get('job@bot'))!.status).toBe('stopped');
  });

  it('a run whose calls were interrupted still ends normally, once', async () => {
    const { clock, guard, memory, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    const call = run.callModel(ask('[sim:stall_first] x')).then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advance(1);
    expect([run.handle.interrupted, run.handle.ended]).toEqual([false, false]);
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'past the grace'))).toBe(1);
    expect(plain(await call)).toMatchObject({ code: 'gateway.shutting_down' });
    expect([run.handle.interrupted, run.handle.ended]).toEqual([true, false]);
    await clock.advance(9);
    await run.end();
    await run.end();
    expect(of('run.ended')).toEqual([{ type: 'run.ended', at: T0 + 10, runId: 'job@bot', agent: 'bot', tenant: 'acme' }]);
    expect(await memory.runs.get('job@bot')).toEqual({ ...record(), status: 'completed', endedAt: T0 + 10 });
    expect(run.handle.ended).toBe(true);
  });
});
