/**
 * Guard.close (timers stopped, calls in flight aborted, an owned store closed, a borrowed one left
 * working, idempotent), Guard.interruptCalls, Guard.activeRuns, and approve/deny's default decider.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Authorizer, createGuard, createMemoryStore, type GuardError } from '../../src/index.ts';
import { guardError } from '../../src/core/errors.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const dir = mkdtempSync(join(tmpdir(), 'fmguard-guard-close-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('close', () => {
  it('aborts calls in flight with kill.switch, leaves idle runs alone, and stops every timer', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 60_000 } }), clock });
    const busy = await guard.startRun({ agent: 'bot', id: 'busy' });
    const idle = await guard.startRun({ agent: 'bot', id: 'idle' });
    const call = busy.callModel(ask('[sim:stall_first] x')).catch((e: unknown) => e);
    await clock.advance(1);
    expect(guard.activeRuns).toBe(2);
    await guard.close();
    expect(await call).toMatchObject({ code: 'kill.switch', message: 'the guard is shutting down' });
    expect(idle.signal.aborted).toBe(false);
    expect(guard.activeRuns).toBe(0);
    // The idle sweeper and both runs' deadlines are gone: nothing fires later.
    expect(clock.pending).toBe(0);
    // Idempotent.
    await expect(guard.close()).resolves.toBeUndefined();
  });

  it('closes a store it opened', async () => {
    const path = join(dir, 'owned.db');
    const guard = createGuard({ config: baseConfig({}, { store: { kind: 'sqlite', path }, audit: { sink: 'none' } } as never) });
    await guard.startRun({ agent: 'bot', id: 'r' });
    await guard.close();
    await expect(guard.store.runs.get('r@bot')).rejects.toThrow();
    await expect(guard.close()).resolves.toBeUndefined();
  });

  it('leaves a store it was given working for the other guards on it', async () => {
    const store = createMemoryStore();
    const one = createGuard({ config: baseConfig(), store });
    const two = createGuard({ config: baseConfig(), store });
    const run = await two.startRun({ agent: 'bot', id: 'r' });
    await one.close();
    // Another process sets a kill switch through the store: the guard still on it hears it at once.
    await store.kills.set('run:r@bot', { reason: 'elsewhere', by: 'ops', at: Date.now() });
    expect(run.signal.aborted).toBe(true);
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch' });
    await two.close();
  });
});

describe('interruptCalls', () => {
  it('aborts only the runs with a call in flight, counts them, and leaves the others running', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 60_000 } }), clock });
    const a = await guard.startRun({ agent: 'bot', id: 'a' });
    const b = await guard.startRun({ agent: 'bot', id: 'b' });
    const idle = await guard.startRun({ agent: 'bot', id: 'idle' });
    const calls = [a, b].map((run) =>
      run.callModel(ask('[sim:stall_first] x')).then(
        () => undefined,
        (e: unknown) => e as GuardError,
      ),
    );
    await clock.advance(1);
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'past the grace'))).toBe(2);
    expect((await Promise.all(calls)).map((e) => [e?.code, e?.message])).toEqual([
      ['gateway.shutting_down', 'past the grace'],
      ['gateway.shutting_down', 'past the grace'],
    ]);
    expect(guard.activeRuns).toBe(1);
    expect(idle.signal.aborted).toBe(false);
    await expect(idle.callModel(ask('fine'))).resolves.toBeTruthy();
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'again'))).toBe(0);
    await guard.close();
  });
});

describe('approvals', () => {
  const authorizer: Authorizer = {
    authorize: ({ action }) => (action === 'callTool' ? { effect: 'approval', policies: ['ask'] } : { effect: 'allow', policies: [] }),
  };

  it('approve and deny are by the operator unless told otherwise', async () => {
    const guard = createGuard({ config: baseConfig(), authorizer, clock: new FakeClock(T0) });
    const run = await guard.startRun({ agent: 'bot' });
    const ask1 = (await run.callTool({ tool: 'demo.one', args: {}, execute: () => 1 }).catch((e: unknown) => e)) as GuardError;
    const ask2 = (await run.callTool({ tool: 'demo.two', args: {}, execute: () => 2 }).catch((e: unknown) => e)) as GuardError;
    expect((await guard.approve(ask1.details.approvalId as string)).ok).toBe(true);
    expect((await guard.deny(ask2.details.approvalId as string)).ok).toBe(true);
    const decided = await guard.listApprovals();
    expect(decided.map((r) => [r.tool, r.status, r.decidedBy])).toEqual([
      ['demo.two', 'denied', 'operator'],
      ['demo.one', 'approved', 'operator'],
    ]);
    await guard.close();
  });
});
