import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../../src/backends/sqlite/index.ts';
import type { KillInfo, KillScope } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const CHILD = fileURLToPath(new URL('./sqlite-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run sqlite-child.ts in a separate OS process; resolves with what it printed. */
async function child(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT });
  return stdout;
}
const dir = mkdtempSync(join(tmpdir(), 'fmguard-sqlite-'));
let n = 0;
const freshPath = () => join(dir, `store-${process.pid}-${++n}.db`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite store', () => {
  const open: SqliteStore[] = [];
  const openStore = (path: string, killPollMs?: number) => {
    const s = createSqliteStore({ path, killPollMs });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('uses WAL and a busy timeout, and exposes the connection for other tables', () => {
    const s = openStore(freshPath());
    expect(s.kind).toBe('sqlite');
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    s.db.exec('CREATE TABLE audit_test (x INTEGER)');
    s.db.prepare('INSERT INTO audit_test (x) VALUES (?)').run(1);
    expect(s.db.prepare('SELECT count(*) FROM audit_test').pluck().get()).toBe(1);
  });

  it('creates the parent directory of the file', async () => {
    const s = openStore(join(dir, 'nested', 'deeper', 'state.db'));
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0)).toEqual([{ used: 0, reserved: 0 }]);
  });

  it('state survives close and reopen', async () => {
    const path = freshPath();
    const a = createSqliteStore({ path });
    await a.ledger.reserve({
      id: 'settled',
      charges: [{ key: 'run:r', dim: 'cost', amount: 100, limit: 1000, code: 'limit.cost' }],
      expiresAt: T0 + 60_000,
      now: T0,
    });
    await a.ledger.settle({ id: 'settled', actual: [70], now: T0 });
    await a.ledger.reserve({
      id: 'open',
      charges: [{ key: 'run:r', dim: 'cost', amount: 200, limit: 1000, code: 'limit.cost' }],
      expiresAt: T0 + 60_000,
      now: T0,
    });
    await a.ledger.reserve({
      id: 'late',
      charges: [{ key: 'run:r', dim: 'cost', amount: 50, limit: 1000, code: 'limit.cost' }],
      expiresAt: T0 + 1000,
      now: T0,
    });
    await a.ledger.trackRepeat('run:r', 'fp');
    await a.rates.take([{ key: 'agent:a', capacity: 10, windowMs: 60_000, amount: 10, scope: 'agent' }], T0);
    await a.kills.set('agent:a', { reason: 'runaway', by: 'cli', at: T0 });
    await a.kills.set('global', { reason: 'gone', by: 'cli', at: T0 });
    await a.kills.clear('global');
    await a.runs.create({ id: 'r', agent: 'a', tenant: 't', ancestors: ['p'], parentId: 'p', depth: 1, startedAt: T0, deadline: T0 + 1000, status: 'running' });
    await a.runs.end('r', 'stopped', T0 + 5, 'kill.switch', 'operator');
    await a.close();
    await a.close(); // idempotent

    const b = openStore(path);
    expect(await b.ledger.balances([{ key: 'run:r', dim: 'cost' }], T0)).toEqual([{ used: 70, reserved: 250 }]);
    expect(await b.ledger.settle({ id: 'open', actual: [180], now: T0 + 10 })).toEqual({
      ok: true,
      lines: [{ key: 'run:r', dim: 'cost', before: 70, after: 250, limit: 1000 }],
    });
    // The expiry and the late settle work across the restart too.
    expect(await b.ledger.balances([{ key: 'run:r', dim: 'cost' }], T0 + 1000)).toEqual([{ used: 250, reserved: 0 }]);
    expect((await b.ledger.settle({ id: 'late', actual: [50], now: T0 + 2000 })).ok).toBe(true);
    expect(await b.ledger.balances([{ key: 'run:r', dim: 'cost' }], T0 + 2000)).toEqual([{ used: 300, reserved: 0 }]);
    expect(await b.ledger.trackRepeat('run:r', 'fp')).toBe(2);
    expect(await b.rates.take([{ key: 'agent:a', capacity: 10, windowMs: 60_000, amount: 1, scope: 'agent' }], T0)).toEqual({
      ok: false,
      scope: 'agent',
      key: 'agent:a',
      retryAfterMs: 6000,
    });
    expect(await b.kills.list()).toEqual(new Map([['agent:a', { reason: 'runaway', by: 'cli', at: T0 }]]));
    expect(await b.runs.get('r')).toEqual({
      id: 'r',
      agent: 'a',
      tenant: 't',
      ancestors: ['p'],
      parentId: 'p',
      depth: 1,
      startedAt: T0,
      deadline: T0 + 1000,
      status: 'stopped',
      stopCode: 'kill.switch',
      stopReason: 'operator',
      endedAt: T0 + 5,
    });
  });

  it('a kill set through one connection reaches a subscriber on another connection', async () => {
    // The reader polls on an interval: fake intervals make every poll explicit, so "no notification"
    // is proved by polls that ran, not by a sleep.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const path = freshPath();
      const writer = openStore(path);
      const reader = openStore(path, 50);
      const seen: Array<[KillScope, KillInfo | null]> = [];
      const off = reader.kills.subscribe((scope, info) => seen.push([scope, info]));
      await writer.kills.set('tenant:t', { reason: 'budget alarm', by: 'alarm', at: T0 });
      expect(seen).toEqual([]);
      vi.advanceTimersByTime(50);
      expect(seen).toEqual([['tenant:t', { reason: 'budget alarm', by: 'alarm', at: T0 }]]);
      await writer.kills.set('tenant:t', { reason: 'budget alarm', by: 'ops', at: T0 + 1 });
      await writer.kills.clear('tenant:t');
      // Both changes happened between two polls: the subscriber sees the net change.
      vi.advanceTimersByTime(50);
      expect(seen).toEqual([
        ['tenant:t', { reason: 'budget alarm', by: 'alarm', at: T0 }],
        ['tenant:t', null],
      ]);
      // Ledger traffic on the other connection alone does not produce kill notifications.
      await writer.ledger.reserve({ id: 'x', charges: [{ key: 'k', dim: 'cost', amount: 1, code: 'limit.cost' }], expiresAt: T0 + 1000, now: T0 });
      vi.advanceTimersByTime(500);
      expect(seen).toHaveLength(2);
      off();
      await writer.kills.set('global', { reason: 'after unsubscribe', by: 'ops', at: T0 });
      vi.advanceTimersByTime(500);
      expect(seen).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the default poll interval propagates a kill within a second', async () => {
    const path = freshPath();
    const writer = openStore(path);
    const reader = openStore(path);
    const seen: KillScope[] = [];
    reader.kills.subscribe((scope) => seen.push(scope));
    const started = Date.now();
    await writer.kills.set('global', { reason: 'stop', by: 'cli', at: T0 });
    await vi.waitFor(() => expect(seen).toEqual(['global']), { timeout: 1000, interval: 10 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('two connections reserving against one budget never overshoot it', async () => {
    const path = freshPath();
    const a = openStore(path);
    const b = openStore(path);
    const limit = 100_000;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).ledger.reserve({
          id: `r${i}`,
          charges: [{ key: 'budget:shared', dim: 'cost', amount: 3000, limit, code: 'budget.exhausted' }],
          expiresAt: T0 + 60_000,
          now: T0,
        }),
      ),
    );
    expect(results.filter((r) => r.ok).length).toBe(Math.floor(limit / 3000));
    expect(await a.ledger.balances([{ key: 'budget:shared', dim: 'cost' }], T0)).toEqual([{ used: 0, reserved: 33 * 3000 }]);
  });

  it('forgets an expired reservation after the retention period', async () => {
    const s = createSqliteStore({ path: freshPath(), expiredRetentionMs: 1000 });
    open.push(s);
    const charge = { key: 'k', dim: 'cost', amount: 5, limit: 100, code: 'limit.cost' as const };
    await s.ledger.reserve({ id: 'a', charges: [charge], expiresAt: T0 + 100, now: T0 });
    await s.ledger.reserve({ id: 'b', charges: [charge], expiresAt: T0 + 100, now: T0 });
    await s.ledger.balances([], T0 + 500);
    expect((await s.ledger.settle({ id: 'a', actual: [3], now: T0 + 500 })).ok).toBe(true);
    // Purging runs at most once a minute of caller time.
    await s.ledger.reserve({ id: 'c', charges: [charge], expiresAt: T0 + 200_000, now: T0 + 120_000 });
    expect(await s.ledger.settle({ id: 'b', actual: [3], now: T0 + 120_000 })).toEqual({ ok: false, reason: 'unknown' });
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0 + 120_000)).toEqual([{ used: 3, reserved: 5 }]);
  });

  it('close stops kill polling and no listener runs afterwards', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const path = freshPath();
      const writer = openStore(path);
      const reader = createSqliteStore({ path, killPollMs: 20 });
      const control = openStore(path, 20);
      const seen: KillScope[] = [];
      const controlSeen: KillScope[] = [];
      reader.kills.subscribe((scope) => seen.push(scope));
      control.kills.subscribe((scope) => controlSeen.push(scope));
      await reader.close();
      await writer.kills.set('global', { reason: 'x', by: 'ops', at: T0 });
      vi.advanceTimersByTime(200);
      // The open connection's poll saw the kill; the closed one ran no listener.
      expect(controlSeen).toEqual(['global']);
      expect(seen).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reopening an existing file does not re-run migrations', () => {
    const path = freshPath();
    const a = openStore(path);
    const version = a.db.pragma('user_version', { simple: true });
    const b = openStore(path);
    expect(b.db.pragma('user_version', { simple: true })).toBe(version);
    expect(version).toBeGreaterThan(0);
  });

  it('a kill set by another OS process reaches this process within the poll interval', async () => {
    const path = freshPath();
    const reader = openStore(path);
    const seen: Array<[KillScope, KillInfo | null]> = [];
    reader.kills.subscribe((scope, info) => seen.push([scope, info]));
    await child(path, 'kill');
    const exited = Date.now();
    await vi.waitFor(() => expect(seen).toEqual([['global', { reason: 'from another process', by: 'cli', at: T0 }]]), { timeout: 1500, interval: 10 });
    expect(Date.now() - exited).toBeLessThan(1000);
  });

  it('three OS processes reserving against one budget grant exactly what fits', async () => {
    const path = freshPath();
    openStore(path); // create the schema once, so the children race only on the ledger
    const granted = await Promise.all([child(path, 'reserve', '300'), child(path, 'reserve', '300'), child(path, 'reserve', '300')]);
    const total = granted.reduce((s, g) => s + Number(g), 0);
    expect(total).toBe(500);
    const [b] = await openStore(path).ledger.balances([{ key: 'budget:shared', dim: 'cost' }], T0);
    expect(b.used + b.reserved).toBe(500_000);
  });
});
