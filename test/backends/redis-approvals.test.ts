import { afterEach, describe, expect, it } from 'vitest';
import { approve, checkApproval } from '../../src/approvals/gate.ts';
import { createRedisApprovalStore } from '../../src/backends/redis/approvals.ts';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';

describe('redis approvals across replicas', () => {
  const stores: RedisStore[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const p of prefixes.splice(0)) await deleteKeys(p);
  });

  it('one approval, 200 identical calls on four replicas at once: exactly one goes through', async () => {
    const prefix = uniquePrefix('approvals-race');
    prefixes.push(prefix);
    const replicas = Array.from({ length: 4 }, () => createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 }));
    stores.push(...replicas);
    await Promise.all(replicas.map((s) => s.ready()));
    const approvals = replicas.map((s) => createRedisApprovalStore(s));
    const call = (i: number) =>
      checkApproval({ store: approvals[i % 4], run: 'r1', agent: 'a', tool: 'demo.pay', args: { amount: 20 }, now: 1000, ttlMs: 60_000 });

    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => call(i)));
    const ids = new Set(first.map((r) => r.request.id));
    expect(ids.size).toBe(1); // one request filed, however many asked at once
    await approve({ store: approvals[1], id: [...ids][0], by: 'alice', now: 1000 });

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(i)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const refiled = new Set(results.filter((r) => !r.ok).map((r) => r.request.id));
    expect(refiled.size).toBe(1); // and the rest share one new request
    expect(refiled.has([...ids][0])).toBe(false);
  });
});
