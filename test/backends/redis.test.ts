import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { countKeys, makeTestStore, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('redis store basics', () => {
  const open: RedisStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('keeps every key under its prefix, and a test store leaves none behind', async () => {
    const prefix = uniquePrefix('basics');
    const s = await makeTestStore({ prefix });
    await s.ledger.reserve({ id: 'a', charges: [{ key: 'run:r', dim: 'cost', amount: 5, limit: 10, code: 'limit.cost' }], expiresAt: T0 + 1000, now: T0 });
    await s.rates.take([{ key: 'agent:a', capacity: 10, windowMs: 60_000, amount: 1, scope: 'agent' }], T0);
    await s.kills.set('global', { reason: 'x', by: 'test', at: T0 });
    await s.runs.create({ id: 'r', agent: 'a', tenant: 't', ancestors: [], depth: 0, startedAt: T0, deadline: T0 + 1, status: 'running' });
    await s.ledger.trackRepeat('run:r', 'fp');
    expect(await countKeys(prefix)).toBeGreaterThan(5);
    await s.close();
    expect(await countKeys(prefix)).toBe(0);
  });

  it('two prefixes on one Redis do not see each other', async () => {
    const a = await makeTestStore();
    const b = await makeTestStore();
    open.push(a, b);
    const line = { key: 'budget:shared', dim: 'cost', amount: 7, limit: 10, code: 'budget.exhausted' as const };
    expect((await a.ledger.reserve({ id: 'x', charges: [line], expiresAt: T0 + 1000, now: T0 })).ok).toBe(true);
    expect((await b.ledger.reserve({ id: 'x', charges: [line], expiresAt: T0 + 1000, now: T0 })).ok).toBe(true);
    await a.kills.set('global', { reason: 'a only', by: 'test', at: T0 });
    expect((await b.kills.list()).size).toBe(0);
  });

  it('amounts beyond 2^32 and up to the safe-integer range stay exact', async () => {
    const s = await makeTestStore();
    open.push(s);
    const big = 4_000_000_000_000_000; // $4M in nano-USD
    const limit = Number.MAX_SAFE_INTEGER;
    const r = await s.ledger.reserve({
      id: 'big',
      charges: [{ key: 'budget:t', dim: 'cost', amount: big, limit, code: 'budget.exhausted' }],
      expiresAt: T0 + 1000,
      now: T0,
    });
    expect(r.ok).toBe(true);
    const settled = await s.ledger.settle({ id: 'big', actual: [big + 1], now: T0 });
    expect(settled).toEqual({ ok: true, lines: [{ key: 'budget:t', dim: 'cost', before: 0, after: big + 1, limit }] });
    const over = await s.ledger.reserve({
      id: 'over',
      charges: [{ key: 'budget:t', dim: 'cost', amount: limit - big, limit, code: 'budget.exhausted' }],
      expiresAt: T0 + 1000,
      now: T0,
    });
    expect(over).toMatchObject({ ok: false, refusal: { used: big + 1, reserved: 0, requested: limit - big } });
  });

  it('a NaN limit never fits, an infinite one always does (as in the memory store)', async () => {
    const s = await makeTestStore();
    open.push(s);
    const line = (limit: number) => ({ key: 'k', dim: 'cost', amount: 1, limit, code: 'limit.cost' as const });
    expect((await s.ledger.reserve({ id: 'nan', charges: [line(Number.NaN)], expiresAt: T0 + 1000, now: T0 })).ok).toBe(false);
    expect((await s.ledger.reserve({ id: 'inf', charges: [line(Number.POSITIVE_INFINITY)], expiresAt: T0 + 1000, now: T0 })).ok).toBe(true);
  });

  it("releases a dead replica's large backlog in bounded steps, never loosening a limit meanwhile", async () => {
    const s = await makeTestStore();
    open.push(s);
    const line = { key: 'budget:t', dim: 'cost', amount: 1, code: 'budget.exhausted' as const };
    const pipeline = s.redis.pipeline();
    for (let i = 0; i < 5000; i++) {
      // What 5000 reserves leave behind, written in one go (the script path is covered elsewhere).
      pipeline.zadd(`${s.keys.prefix}rz:due`, T0 + 10, `b${i}`);
      pipeline.hset(`${s.keys.prefix}res:b${i}`, 'x', String(T0 + 10), 'e', '0', 'n', '1', 'k1', line.key, 'd1', line.dim, 'a1', '1', 'l1', '');
    }
    pipeline.hincrby(`${s.keys.prefix}l:budget:t`, 'r:cost', 5000);
    await pipeline.exec();
    const balance = async () => (await s.ledger.balances([{ key: 'budget:t', dim: 'cost' }], T0 + 10))[0];
    expect(await balance()).toEqual({ used: 0, reserved: 5000 - 4096 });
    expect(await balance()).toEqual({ used: 0, reserved: 0 });
  });

  it('reports kind redis and closes twice without error', async () => {
    const s = createRedisStore({ url: REDIS_URL, prefix: uniquePrefix() });
    expect(s.kind).toBe('redis');
    await s.ready();
    await s.close();
    await s.close();
    await expect(s.ledger.balances([], T0)).rejects.toMatchObject({ code: 'store.unavailable' });
  });
});
