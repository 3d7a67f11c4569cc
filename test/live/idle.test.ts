import { describe, expect, it } from 'vitest';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createGuard } from '../../src/wiring/guard.ts';

const MINUTE = 60_000;

function guardAt(clock: FakeClock, defaults: Record<string, unknown> = { runIdleTtlMs: '5m', runIdleSweepMs: '1m' }) {
  return createGuard({
    clock,
    audit: false,
    providers: { sim: createSimModel({ clock }) },
    config: {
      store: { kind: 'memory' },
      providers: { sim: { kind: 'simulated' } },
      models: { 'sim-small': { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 } },
      tenants: { acme: {} },
      agents: { bot: { tenant: 'acme', keys: ['sk-idle-test-0001'], allow: { models: ['*'] }, limits: { maxDurationMs: '2h' } } },
      defaults: { retry: [], ...defaults },
    },
  });
}

const ask = { model: 'sim-small', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('runs whose owner stopped sending', () => {
  it('are ended by the idle sweeper with run.idle after the idle TTL; any call restarts the count (fake clock)', async () => {
    const clock = new FakeClock();
    const guard = guardAt(clock);
    const stopped: string[] = [];
    guard.on((e) => {
      if (e.type === 'run.stopped') stopped.push(`${e.runId} ${e.code}`);
    });
    try {
      const run = await guard.startRun({ agent: 'bot', id: 'idle-1' });
      await run.callModel(ask);
      await clock.advance(4 * MINUTE);
      await run.callModel(ask); // active again at 4 min
      await clock.advance(4 * MINUTE);
      expect((await guard.store.runs.get('idle-1@bot'))!.status).toBe('running');
      // Resuming by id (what the gateway does per request) is activity too.
      await guard.startRun({ agent: 'bot', id: 'idle-1' });
      await clock.advance(4 * MINUTE);
      expect((await guard.store.runs.get('idle-1@bot'))!.status).toBe('running');
      await clock.advance(2 * MINUTE);
      const record = (await guard.store.runs.get('idle-1@bot'))!;
      expect(record).toMatchObject({ status: 'stopped', stopCode: 'run.idle' });
      expect(record.stopReason).toMatch(/idle for \d+ ms \(the idle TTL is 300000 ms\)/);
      expect(stopped).toEqual(['idle-1@bot run.idle']);
      await expect(run.callModel(ask)).rejects.toMatchObject({ code: 'run.idle' });
    } finally {
      await guard.close();
    }
  });

  it('a run left running by a process that is gone is ended once its deadline has passed', async () => {
    const clock = new FakeClock();
    const guard = guardAt(clock);
    try {
      const now = clock.now();
      await guard.store.runs.create({
        id: 'orphan',
        agent: 'bot',
        tenant: 'acme',
        ancestors: [],
        depth: 0,
        startedAt: now,
        deadline: now + 10 * MINUTE,
        status: 'running',
      });
      await clock.advance(10 * MINUTE);
      expect((await guard.store.runs.get('orphan'))!.status).toBe('running');
      await clock.advance(2 * MINUTE);
      expect(await guard.store.runs.get('orphan')).toMatchObject({ status: 'stopped', stopCode: 'run.idle' });
    } finally {
      await guard.close();
    }
  });

  it('runIdleTtlMs 0 turns the sweeper off', async () => {
    const clock = new FakeClock();
    const guard = guardAt(clock, { runIdleTtlMs: 0 });
    try {
      await guard.startRun({ agent: 'bot', id: 'forever' });
      await clock.advance(90 * MINUTE);
      expect((await guard.store.runs.get('forever@bot'))!.status).toBe('running');
      expect(await guard.sweepIdle()).toBe(0);
    } finally {
      await guard.close();
    }
  });
});
