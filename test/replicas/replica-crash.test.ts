/**
 * A replica SIGKILLed in the middle of streams: the reservations it held are released once their
 * deadline passes, so the budget is whole again for the other replicas; its audit chain in the
 * shared Postgres table still verifies, up to the last event it wrote.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAuditSink } from '../../src/backends/postgres/audit.ts';
import { usdToNano } from '../../src/core/money.ts';
import { windowId } from '../../src/core/periods.ts';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { ask, BOT_KEY, chat, pgSchema, replicaConfig, Replicas, TENANT, type Replica } from './helpers.ts';

const BUDGET_USD = 1;
const TTL_MS = 2000;
const STREAMS = 3;
// 700 output tokens at $400/MTok: each stream holds $0.28 of the $1 budget while it runs.
const STREAM_MAX_TOKENS = 700;
// $0.96 of output (plus a little input): only fits once nothing else is held.
const FULL_MAX_TOKENS = 2400;

describe('a replica killed with SIGKILL mid-stream', () => {
  const prefix = uniquePrefix('replicas-crash');
  const replicas = new Replicas();
  const pools: Pool[] = [];
  let store: RedisStore;
  let schema: Awaited<ReturnType<typeof pgSchema>>;
  let crashing: Replica;
  let survivor: Replica;

  beforeAll(async () => {
    schema = await pgSchema();
    const config = (replica: string) =>
      replicaConfig(
        { url: REDIS_URL, prefix },
        { limits: { maxCostUsd: 1000 }, timeouts: { model: { idleMs: 120_000, totalMs: 120_000, firstTokenMs: 120_000 } } },
        {
          tenants: { [TENANT]: { budgets: [{ period: 'day', maxCostUsd: BUDGET_USD }] } },
          defaults: { retry: [], reservationTtlMs: TTL_MS },
          audit: { sink: 'postgres', url: schema.url, replica },
        },
      );
    [crashing, survivor] = await replicas.startMany([
      ['gw-crash', config('gw-crash')],
      ['gw-survivor', config('gw-survivor')],
    ]);
    store = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
    await store.ready();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.destroy()));
    await replicas.cleanup();
    await store?.close();
    await deleteKeys(prefix);
    await schema?.drop();
  });

  it('releases its reservations after their deadline; the budget is whole again; its audit chain verifies', async () => {
    const budgetLine = { key: `budget:tenant:${TENANT}:day:${windowId('day', Date.now())}`, dim: 'cost' };
    const crashPool = new Pool(crashing.url, { connections: STREAMS });
    const survivorPool = new Pool(survivor.url, { connections: 2 });
    pools.push(crashPool, survivorPool);

    // Streams on the doomed replica, each holding part of the budget, stalled after a few chunks.
    const opened = performance.now();
    await Promise.all(
      Array.from({ length: STREAMS }, async (_, i) => {
        const res = await crashPool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(ask(`doomed stream ${i} [sim:stall 3]`, 'sim-pricey', { stream: true, max_tokens: STREAM_MAX_TOKENS })),
        });
        expect(res.statusCode).toBe(200);
        const iterator = res.body[Symbol.asyncIterator]();
        expect((await iterator.next()).done).toBe(false);
        // Keep reading (so the socket stays drained) until the process dies under it.
        void (async () => {
          try {
            while (!(await iterator.next()).done);
          } catch {
            // The connection is reset by the SIGKILL.
          }
        })();
      }),
    );
    const [held] = await store.ledger.balances([budgetLine], Date.now());
    expect(held!.reserved).toBeGreaterThanOrEqual(STREAMS * usdToNano(STREAM_MAX_TOKENS * 400e-6));
    expect(held!.used).toBe(0);

    // Its audit events so far reached Postgres (the run and call starts), then it dies, mid-stream.
    const reader = createPostgresAuditSink({ connectionString: schema.url, replica: 'test-reader' });
    try {
      const deadline = Date.now() + 10_000;
      while ((await reader.query({ replica: 'gw-crash' })).length < STREAMS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await replicas.kill(crashing);
      const killedAt = performance.now();

      // Held until the deadline, then released: poll the ledger (every read releases what expired).
      let reserved = held!.reserved;
      while (reserved > 0 && performance.now() - killedAt < TTL_MS + 5000) {
        await new Promise((r) => setTimeout(r, 50));
        reserved = (await store.ledger.balances([budgetLine], Date.now()))[0]!.reserved;
      }
      const releasedAfterOpen = performance.now() - opened;
      console.log(
        `replica crash: ${(held!.reserved / 1e9).toFixed(3)} USD held by ${STREAMS} streams; released ${releasedAfterOpen.toFixed(0)} ms after they opened ` +
          `(${(performance.now() - killedAt).toFixed(0)} ms after the SIGKILL; reservation TTL ${TTL_MS} ms)`,
      );
      expect(reserved).toBe(0);
      // Not before the deadline (the ledger has no other way to know the replica is gone).
      expect(releasedAfterOpen).toBeGreaterThanOrEqual(TTL_MS - 100);

      // The budget is whole: a call that needs nearly all of it is served in full on the survivor.
      const full = await chat(survivorPool, ask(`[sim:long ${FULL_MAX_TOKENS}] the whole budget`, 'sim-pricey', { max_tokens: FULL_MAX_TOKENS }));
      expect(full.status, full.body).toBe(200);
      expect(JSON.parse(full.body).usage.completion_tokens).toBe(FULL_MAX_TOKENS);
      const [after] = await store.ledger.balances([budgetLine], Date.now());
      expect(after!.reserved).toBe(0);
      expect(after!.used).toBeGreaterThanOrEqual(usdToNano(FULL_MAX_TOKENS * 400e-6));
      expect(after!.used).toBeLessThanOrEqual(usdToNano(BUDGET_USD));

      // Every chain verifies, the dead replica's up to its last event. (The survivor appends its
      // events after answering: wait for them.)
      while ((await reader.query({ replica: 'gw-survivor' })).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const crashedEvents = await reader.query({ replica: 'gw-crash' });
      const verified = await reader.verify();
      const chains = Object.fromEntries(verified.chains.map((c) => [c.replica, c.result]));
      console.log(
        `replica crash: audit chains ${JSON.stringify(Object.fromEntries(verified.chains.map((c) => [c.replica, c.result.ok ? `ok, ${(c.result as { count: number }).count} events` : c.result.message])))}`,
      );
      expect(verified.ok).toBe(true);
      expect(chains['gw-crash']).toMatchObject({ ok: true, count: crashedEvents.length });
      expect(crashedEvents.length).toBeGreaterThanOrEqual(STREAMS);
      expect(chains['gw-crash']!.ok && chains['gw-crash']!.head?.seq).toBe(Math.max(...crashedEvents.map((e) => e.seq)));
      expect(chains['gw-survivor']).toMatchObject({ ok: true });
    } finally {
      await reader.close();
    }
  }, 60_000);
});
