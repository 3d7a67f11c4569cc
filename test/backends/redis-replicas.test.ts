/**
 * Several replicas sharing one Redis: store instances in this process, and other OS processes.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import type { KillInfo, KillScope } from '../../src/store/store.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';

const CHILD = fileURLToPath(new URL('../redis/child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);

describe('redis store: replicas sharing one Redis', () => {
  const stores: RedisStore[] = [];
  const prefixes: string[] = [];
  const raw: Redis[] = [];

  /** `count` store instances ("replicas") on one fresh prefix. */
  async function replicas(count: number): Promise<RedisStore[]> {
    const prefix = uniquePrefix('replicas');
    prefixes.push(prefix);
    // Generous timeouts: these tests are about limits holding, and share the machine with other suites.
    const made = Array.from({ length: count }, () => createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 }));
    stores.push(...made);
    await Promise.all(made.map((s) => s.ready()));
    return made;
  }

  function rawClient(): Redis {
    const r = new Redis(REDIS_URL);
    r.on('error', () => {});
    raw.push(r);
    return r;
  }

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const r of raw.splice(0)) r.disconnect();
    for (const p of prefixes.splice(0)) await deleteKeys(p);
  });

  it('a kill set on one replica reaches the subscribers of the others within 200 ms', async () => {
    const [a, b, c] = await replicas(3);
    const seenB: Array<[KillScope, KillInfo | null]> = [];
    const seenC: KillScope[] = [];
    b.kills.subscribe((scope, info) => seenB.push([scope, info]));
    c.kills.subscribe((scope) => seenC.push(scope));
    await Promise.all([b.kills.subscribed(), c.kills.subscribed()]);

    const info = { reason: 'runaway spend', by: 'ops', at: T0 };
    const started = performance.now();
    await a.kills.set('tenant:acme', info);
    // Pub/sub, not the 1 s poll: 750 ms still tells them apart on a loaded 2-core machine.
    await vi.waitFor(() => expect(seenB).toEqual([['tenant:acme', info]]), { timeout: 750, interval: 2 });
    await vi.waitFor(() => expect(seenC).toEqual(['tenant:acme']), { timeout: 750, interval: 2 });
    expect(performance.now() - started).toBeLessThan(750);
    expect(await b.kills.list()).toEqual(new Map([['tenant:acme', info]]));

    await a.kills.clear('tenant:acme');
    await vi.waitFor(() => expect(seenB.at(-1)).toEqual(['tenant:acme', null]), { timeout: 200, interval: 2 });
    // The writer's own listeners hear it once, directly, not again through its echo.
    const seenA: KillScope[] = [];
    a.kills.subscribe((scope) => seenA.push(scope));
    await a.kills.subscribed();
    await a.kills.set('global', info);
    await vi.waitFor(() => expect(seenB.at(-1)?.[0]).toBe('global'), { timeout: 200, interval: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(seenA).toEqual(['global']);
  });

  it('a change missed while the subscriber connection was down is announced after it reconnects', async () => {
    const [a, b] = await replicas(2);
    const seen: Array<[KillScope, KillInfo | null]> = [];
    b.kills.subscribe((scope, info) => seen.push([scope, info]));
    await b.kills.subscribed();
    await a.kills.set('agent:x', { reason: 'before', by: 'ops', at: T0 });
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 1000, interval: 5 });

    // Changes written as the kill scripts write them, minus the message (as if published while b
    // was disconnected) ...
    const r = rawClient();
    const version = String(Date.now() * 1000 + 10_000_000);
    await r.hset(a.keys.kills, 'global', JSON.stringify({ reason: 'missed', by: 'ops', at: T0 + 1 }));
    await r.hdel(a.keys.kills, 'agent:x');
    await r.hset(`${a.keys.prefix}killv`, 'global', version, 'agent:x', version);
    await new Promise((res) => setTimeout(res, 50));
    expect(seen).toHaveLength(1);
    // ... are found when b's subscriber connection is dropped by the server and comes back.
    const clients = await r.client('LIST');
    const line = String(clients)
      .split('\n')
      .find((l) => l.includes(`name=fmguard-sub:${b.id}`));
    expect(line).toBeDefined();
    const id = /\bid=(\d+)/.exec(line as string)?.[1];
    await r.client('KILL', 'ID', id as string);
    await vi.waitFor(
      () =>
        expect(seen.slice(1)).toEqual(
          expect.arrayContaining([
            ['global', { reason: 'missed', by: 'ops', at: T0 + 1 }],
            ['agent:x', null],
          ]),
        ),
      { timeout: 3000, interval: 10 },
    );
    // And messages flow again on the new connection.
    await a.kills.set('run:r1', { reason: 'after', by: 'ops', at: T0 + 2 });
    await vi.waitFor(() => expect(seen.at(-1)?.[0]).toBe('run:r1'), { timeout: 1000, interval: 5 });
  });

  it('with a silently dead pub/sub connection, the periodic re-read still delivers a change', async () => {
    const prefix = uniquePrefix('resync');
    prefixes.push(prefix);
    const a = createRedisStore({ url: REDIS_URL, prefix });
    const b = createRedisStore({ url: REDIS_URL, prefix, killResyncMs: 100 });
    stores.push(a, b);
    const seen: KillScope[] = [];
    b.kills.subscribe((scope) => seen.push(scope));
    await b.kills.subscribed();
    // Written without a message (and, as by hand, without a version): only the re-read can find it.
    await rawClient().hset(a.keys.kills, 'tenant:quiet', JSON.stringify({ reason: 'no message', by: 'ops', at: T0 }));
    await vi.waitFor(() => expect(seen).toEqual(['tenant:quiet']), { timeout: 1000, interval: 10 });
  });

  it('a re-read that answers late never undoes a newer change (no false clear)', async () => {
    const prefix = uniquePrefix('stale');
    prefixes.push(prefix);
    const a = createRedisStore({ url: REDIS_URL, prefix });
    const b = createRedisStore({ url: REDIS_URL, prefix, killResyncMs: 100 });
    stores.push(a, b);
    const seen: Array<[KillScope, KillInfo | null]> = [];
    b.kills.subscribe((scope, info) => seen.push([scope, info]));
    await b.kills.subscribed();
    // Hold back b's next re-read: it is taken before the kill below, and answers after it arrived.
    let taken!: () => void;
    const readTaken = new Promise<void>((resolve) => (taken = resolve));
    let delivered!: () => void;
    const readDelivered = new Promise<void>((resolve) => (delivered = resolve));
    const run = b.gate.run.bind(b.gate);
    b.gate.run = (async (what: string, fn: Parameters<typeof run>[1]) => {
      if (what !== 'kill resync') return run(what, fn);
      const reply = await run(what, fn);
      taken();
      await new Promise((r) => setTimeout(r, 200));
      setImmediate(delivered);
      return reply;
    }) as typeof b.gate.run;
    await readTaken;
    const info = { reason: 'during a slow read', by: 'ops', at: T0 };
    await a.kills.set('tenant:t', info);
    await vi.waitFor(() => expect(seen).toEqual([['tenant:t', info]]), { timeout: 150, interval: 2 });
    await readDelivered;
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([['tenant:t', info]]);
  });

  it('four replicas, 2,000 concurrent reserves on one budget and one run limit: neither is exceeded', async () => {
    const four = await replicas(4);
    const budget = 50_000_000; // nano-USD
    const steps = 900;
    const amount = 37_000;
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 2000 }, async (_, i) => {
        const store = four[i % 4];
        const id = `c${i}`;
        const r = await store.ledger.reserve({
          id,
          charges: [
            { key: 'run:shared', dim: 'steps', amount: 1, limit: steps, code: 'limit.steps' },
            { key: 'budget:tenant:acme', dim: 'cost', amount, limit: budget, code: 'budget.exhausted' },
          ],
          expiresAt: now + 60_000,
          now,
        });
        if (r.ok) await store.ledger.settle({ id, actual: [1, Math.floor(amount * ((i % 7) / 7))], now });
        return r;
      }),
    );
    const granted = results.filter((r) => r.ok).length;
    for (const r of results) if (!r.ok) expect(['limit.steps', 'budget.exhausted']).toContain(r.refusal.code);
    const [s, c] = await four[0].ledger.balances(
      [
        { key: 'run:shared', dim: 'steps' },
        { key: 'budget:tenant:acme', dim: 'cost' },
      ],
      now,
    );
    expect(s).toEqual({ used: granted, reserved: 0 });
    expect(granted).toBe(steps);
    expect(c.used).toBeLessThanOrEqual(budget);
    expect(c.reserved).toBe(0);
  });

  it('two OS processes reserving against one budget grant exactly what fits', async () => {
    const prefix = uniquePrefix('procs');
    prefixes.push(prefix);
    // Both start firing together, once both have connected.
    const run = (n: number) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, REDIS_URL, prefix, 'reserve', String(n), '1000', '100000', '2'], { cwd: ROOT }).then(
        (r) => r.stdout.split(' ').map(Number),
      );
    const [[grantedA, settledA], [grantedB, settledB]] = await Promise.all([run(150), run(150)]);
    expect(grantedA + grantedB).toBe(100);
    expect(grantedA).toBeGreaterThan(0);
    expect(grantedB).toBeGreaterThan(0);
    const store = createRedisStore({ url: REDIS_URL, prefix });
    stores.push(store);
    const [b] = await store.ledger.balances([{ key: 'budget:shared', dim: 'cost' }], Date.now());
    expect(b.used + b.reserved).toBe(100_000);
    expect(b.used).toBe((settledA + settledB) * 1000);
  });

  it('the reservation of a replica killed with SIGKILL is released after its deadline', async () => {
    const prefix = uniquePrefix('dead');
    prefixes.push(prefix);
    const ttlMs = 1500;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, REDIS_URL, prefix, 'hold', '1000', String(ttlMs)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const held = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      expect(held).toBe('held');
      const heldAt = Date.now();
      child.kill('SIGKILL');
      await exited;

      const store = createRedisStore({ url: REDIS_URL, prefix });
      stores.push(store);
      const line = { key: 'budget:shared', dim: 'cost', amount: 1000, limit: 1000, code: 'budget.exhausted' as const };
      const early = await store.ledger.reserve({ id: 'early', charges: [line], expiresAt: Date.now() + 60_000, now: Date.now() });
      expect(early).toMatchObject({ ok: false, refusal: { code: 'budget.exhausted', reserved: 1000 } });

      await new Promise((r) => setTimeout(r, Math.max(0, heldAt + ttlMs + 50 - Date.now())));
      const now = Date.now();
      expect(await store.ledger.balances([{ key: 'budget:shared', dim: 'cost' }], now)).toEqual([{ used: 0, reserved: 0 }]);
      expect(await store.ledger.reserve({ id: 'later', charges: [line], expiresAt: now + 60_000, now })).toEqual({ ok: true });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
