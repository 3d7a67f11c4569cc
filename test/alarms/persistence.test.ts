/**
 * Alarm state lives in the store (store.alarms): an engine started on the same state after a restart
 * resumes each alarm's state, and what its ALARM actions did (so closeOnOk still undoes them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { AlarmSpec } from '../../src/alarms/types.ts';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';
import { createBreakers } from '../../src/breakers/service.ts';
import { createMetrics } from '../../src/metrics/recorder.ts';
import type { Store } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { simErrorsAlarm } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-alarm-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALARM: AlarmSpec = simErrorsAlarm({ actions: [{ openBreaker: { cooldown: '1h' } }], closeOnOk: true });

function engineOn(store: Store, clock: FakeClock) {
  const breakers = createBreakers({ store: store.breakers, clock });
  const metrics = createMetrics({ clock, store: store.metrics });
  const engine = createAlarmEngine({ alarms: [ALARM], metrics, clock, store: store.alarms, actions: { breakers } });
  return { engine, breakers };
}

describe('alarm state across a restart', () => {
  it('resumes ALARM from the store, and closeOnOk still closes the breaker it opened before the restart', async () => {
    const path = join(dir, 'state.db');
    const clock = new FakeClock();
    const first = createSqliteStore({ path });
    const before = engineOn(first, clock);
    await before.engine.setState('sim-errors', 'ALARM', 'errors');
    await before.engine.idle();
    expect(await before.breakers.admit('provider:sim')).toMatchObject({ ok: false });
    const stored = await first.alarms.get('sim-errors');
    expect(stored).toMatchObject({ version: 1, state: { state: 'ALARM', opened: ['provider:sim'], killed: [] } });
    await before.engine.stop();
    await first.close();

    const second = createSqliteStore({ path });
    const after = engineOn(second, clock);
    await after.engine.idle();
    expect(after.engine.status('sim-errors')).toMatchObject({ state: 'ALARM', reason: 'set by operator: errors' });
    await after.engine.setState('sim-errors', 'OK', 'recovered');
    await after.engine.idle();
    expect(await after.breakers.admit('provider:sim')).toMatchObject({ ok: true });
    expect(await second.alarms.get('sim-errors')).toMatchObject({ version: 2, state: { state: 'OK', opened: [] } });
    await after.engine.stop();
    await second.close();
  });

  it('without a store every alarm starts in INSUFFICIENT_DATA, as before', async () => {
    const clock = new FakeClock();
    const store = createMemoryStore();
    await store.alarms.compareAndSet('sim-errors', 0, { state: 'ALARM', since: 0, reason: 'stored', opened: [], killed: [] });
    const breakers = createBreakers({ store: store.breakers, clock });
    const engine = createAlarmEngine({ alarms: [ALARM], metrics: createMetrics({ clock, store: store.metrics }), clock, actions: { breakers } });
    await engine.idle();
    expect(engine.status('sim-errors')?.state).toBe('INSUFFICIENT_DATA');
    await engine.stop();
    await store.close();
  });
});
