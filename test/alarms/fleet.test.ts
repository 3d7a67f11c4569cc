import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { AlarmSpec } from '../../src/alarms/types.ts';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { createRedisStore } from '../../src/backends/redis/index.ts';
import { createBreakers } from '../../src/breakers/service.ts';
import { createMetrics } from '../../src/metrics/recorder.ts';
import type { Store } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { type HookReceiver, simErrorsAlarm, startHookReceiver } from './fixtures.ts';

let receiver: HookReceiver;
beforeAll(async () => {
  receiver = await startHookReceiver();
});
afterAll(() => receiver.close());

function alarm(): AlarmSpec {
  const { url } = receiver;
  return simErrorsAlarm({
    treatMissingData: 'notBreaching',
    actions: [{ openBreaker: { cooldown: '1h' } }, { webhook: { url } }],
    okActions: [{ webhook: { url } }],
    closeOnOk: true,
  } as Partial<AlarmSpec>);
}

const kinds: Array<[string, () => { stores: Store[]; cleanup: () => Promise<void> }]> = [
  [
    'memory',
    () => {
      const store = createMemoryStore();
      return { stores: [store, store, store, store], cleanup: () => store.close() };
    },
  ],
  [
    'redis',
    () => {
      const prefix = uniquePrefix('alarm-fleet');
      const stores = [0, 1, 2, 3].map(() => createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 }));
      return {
        stores,
        cleanup: async () => {
          await Promise.all(stores.map((s) => s.close()));
          await deleteKeys(prefix);
        },
      };
    },
  ],
];

describe.each(kinds)('four replicas on one %s state: one action per alarm transition', (_kind, make) => {
  it('ALARM, OK, ALARM, OK evaluated by all four at once: one webhook call and one breaker change per transition', async () => {
    const { hooks } = receiver;
    hooks.length = 0;
    const { stores, cleanup } = make();
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const opened: string[] = [];
    const replicas = stores.map((store) => {
      const breakers = createBreakers({ store: store.breakers, clock, onChange: (c) => opened.push(`${c.from}->${c.to}`) });
      const metrics = createMetrics({ clock, store: store.metrics });
      const engine = createAlarmEngine({ alarms: [alarm()], metrics, clock, store: store.alarms, actions: { breakers } });
      return { engine, metrics, breakers };
    });
    try {
      for (let round = 0; round < 4; round++) {
        const failing = round % 2 === 0;
        // Calls land on every replica; metrics are shared through the store.
        for (const r of replicas) {
          for (let i = 0; i < 3; i++)
            r.metrics.record({ provider: 'sim', outcome: failing ? 'error' : 'success', code: failing ? 'upstream.error' : undefined });
          await r.metrics.flush();
        }
        await clock.advance(10_000);
        const at = clock.now() - (clock.now() % 10_000);
        await Promise.all(replicas.map((r) => r.engine.evaluateAll(at)));
        await Promise.all(replicas.map((r) => r.engine.idle()));
        for (const r of replicas) expect(r.engine.status('sim-errors')?.state).toBe(failing ? 'ALARM' : 'OK');
      }
      console.log(`alarm fleet (${_kind}): webhook calls ${JSON.stringify(hooks)}, breaker changes ${JSON.stringify(opened)}`);
      expect(hooks).toEqual(['ALARM', 'OK', 'ALARM', 'OK']);
      expect(opened.filter((c) => c.endsWith('->open'))).toHaveLength(2);
    } finally {
      await Promise.all(replicas.map((r) => r.engine.stop()));
      for (const r of replicas) r.breakers.stop();
      await cleanup();
    }
  });
});
