/**
 * Alarm actions fire once per state change for the whole fleet: four alarm engines (four replicas) on
 * one shared state (the memory store, and Redis) evaluate the same shared metrics at the same time;
 * each transition is claimed by compare-and-set on the alarm's stored state, so exactly one replica
 * runs its actions. Webhook calls are counted at a loopback server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

let hooks: string[] = [];
let url = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    hooks.push(JSON.parse(body).to);
    res.end('ok');
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function alarm(): AlarmSpec {
  return {
    name: 'sim-errors',
    scope: 'provider:sim',
    metric: 'error_rate',
    period: '10s',
    evaluationPeriods: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 0.5,
    treatMissingData: 'notBreaching',
    actions: [{ openBreaker: { cooldown: '1h' } }, { webhook: { url } }],
    okActions: [{ webhook: { url } }],
    closeOnOk: true,
  } as AlarmSpec;
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
    hooks = [];
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
