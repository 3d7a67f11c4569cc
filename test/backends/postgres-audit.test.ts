/**
 * The Postgres audit sink against the real PostgreSQL: every replica's log in one database, one hash
 * chain per replica. All tables live in a schema made for this run and dropped after it.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashEvent, serializeEvent } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/store/audit.ts';
import { formatVerifyResult } from '../../src/audit/format.ts';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import { createPostgresAuditSink, type PostgresAuditSink, type ReplicaEvent } from '../../src/backends/postgres/audit.ts';
import { sampleEvents, T0 } from '../audit/helpers/events.ts';

const URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SCHEMA = `fmguard_test_${process.pid}_${randomUUID().slice(0, 8)}`;

let admin: pg.Pool;
let tables = 0;
const sinks: PostgresAuditSink[] = [];

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: URL, max: 2 });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
});

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

/** A fresh table for one test, and a sink on it for each replica named. */
function freshTable(): string {
  return `${SCHEMA}.audit_${++tables}`;
}

function sink(table: string, replica: string): PostgresAuditSink {
  const s = createPostgresAuditSink({ connectionString: URL, replica, table });
  sinks.push(s);
  return s;
}

/** Tamper with the table directly, as someone with database access would. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  await admin.query(sql, params);
}

const quoted = (table: string) =>
  table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');

describe('postgres audit sink: one replica', () => {
  let table: string;
  let s: PostgresAuditSink;
  beforeAll(async () => {
    table = freshTable();
    s = createPostgresAuditSink({ connectionString: URL, replica: 'gw-1', table });
    for (const event of sampleEvents()) await s.append(event);
  });
  afterAll(async () => {
    await s.close();
  });

  const seqs = async (filter: Parameters<PostgresAuditSink['query']>[0]) => (await s.query(filter)).map((e) => e.seq);

  it('numbers and chains events, and records the replica in the hashed body', async () => {
    const [first, second] = await s.query({ order: 'asc', limit: 2 });
    expect(first).toMatchObject({ seq: 1, replica: 'gw-1', prevHash: '0'.repeat(64), type: 'run.started' });
    expect(second.prevHash).toBe(first.hash);
    expect(hashEvent(first)).toBe(first.hash);
    expect(second).toMatchObject(sampleEvents()[1]);
  });

  it('queries newest first by default, filters like the other sinks', async () => {
    expect(await seqs({})).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await seqs({ limit: 2, order: 'asc' })).toEqual([1, 2]);
    expect(await seqs({ run: 'r1', order: 'asc' })).toEqual([1, 2, 3]);
    expect(await seqs({ agent: 'billing-bot', order: 'asc' })).toEqual([4, 5]);
    expect(await seqs({ tenant: 'acme', order: 'asc' })).toEqual([1, 2, 3]);
    expect(await seqs({ code: 'budget.exhausted' })).toEqual([4]);
    expect(await seqs({ type: ['kill', 'breaker.changed'], order: 'asc' })).toEqual([5, 6]);
    expect(await seqs({ type: [] })).toEqual([]);
    expect(await seqs({ from: T0 + 2000, to: T0 + 4000, order: 'asc' })).toEqual([3, 4]);
    expect(await seqs({ replica: 'gw-1', run: 'r1', type: 'call.refused' })).toEqual([3]);
    expect(await seqs({ replica: 'other' })).toEqual([]);
  });

  it('tails and verifies', async () => {
    expect((await s.tail(2)).map((e) => e.seq)).toEqual([5, 6]);
    expect(await s.tail(0)).toEqual([]);
    const result = await s.verify();
    expect(result).toMatchObject({ ok: true, count: 6, chains: [{ replica: 'gw-1', result: { ok: true, count: 6, head: { seq: 6 } } }] });
    expect(formatVerifyResult(result)).toMatch(/^OK: 6 events verified/);
  });

  it('continues the chain when reopened', async () => {
    const again = sink(table, 'gw-1');
    const stored = await again.append({ type: 'run.completed', time: T0 + 9000, run: 'r1' });
    expect(stored.seq).toBe(7);
    expect(await again.verify()).toMatchObject({ ok: true, count: 7 });
  });
});

describe('postgres audit sink: many replicas', () => {
  it('two replicas appending concurrently each keep a gap-free chain, and both verify', async () => {
    const table = freshTable();
    const a = sink(table, 'gw-a');
    const b = sink(table, 'gw-b');
    const n = 150;
    await Promise.all(
      Array.from({ length: n }, (_, i) => [
        a.append({ type: 'call.allowed', time: T0 + i, agent: 'a', details: { i } }),
        b.append({ type: 'call.allowed', time: T0 + i, agent: 'b', details: { i } }),
      ]).flat(),
    );
    const result = await a.verify();
    expect(result).toMatchObject({ ok: true, count: 2 * n });
    expect(result.chains.map((c) => [c.replica, c.result.ok && c.result.count])).toEqual([
      ['gw-a', n],
      ['gw-b', n],
    ]);
    for (const [s, name] of [
      [a, 'gw-a'],
      [b, 'gw-b'],
    ] as const) {
      const mine = await s.query({ replica: name, order: 'asc' });
      expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
    // Queries span replicas; tail is the newest of all.
    expect(await b.query({ agent: 'a', limit: 1000 })).toHaveLength(n);
    expect((await a.query({})).length).toBe(2 * n);
    expect(await a.replicas()).toEqual(['gw-a', 'gw-b']);
  });

  it('two sinks (two connection pools) appending as the same replica still form one chain: the head row is locked', async () => {
    const table = freshTable();
    const one = sink(table, 'gw-x');
    const two = sink(table, 'gw-x');
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? one : two).append({ type: 'call.allowed', time: T0 + i, details: { i } })));
    expect(await one.verify()).toMatchObject({ ok: true, count: 100 });
  });

  it('an audit log (as the runtime uses it) on each of three replicas', async () => {
    const table = freshTable();
    const logs = ['r1', 'r2', 'r3'].map((name) => createAuditLog({ sink: sink(table, name) }));
    for (let i = 0; i < 30; i++) for (const log of logs) log.record({ type: 'call.allowed', time: T0 + i, run: `run-${i % 3}` });
    await Promise.all(logs.map((l) => l.flush()));
    expect(await sinks[0].verify()).toMatchObject({ ok: true, count: 90 });
    expect(await sinks[2].query({ run: 'run-1' })).toHaveLength(30);
  });
});

describe('postgres audit sink: tampering is caught and named with its replica', () => {
  /** A fresh table with two replicas' chains of six events each. */
  async function twoChains(): Promise<{ table: string; verify: () => ReturnType<PostgresAuditSink['verify']> }> {
    const t = freshTable();
    const a = sink(t, 'gw-a');
    const b = sink(t, 'gw-b');
    for (const event of sampleEvents()) {
      await a.append(event);
      await b.append(event);
    }
    return { table: quoted(t), verify: () => a.verify() };
  }

  it('verifies untouched', async () => {
    const { verify } = await twoChains();
    expect(await verify()).toMatchObject({ ok: true, count: 12 });
  });

  it('an edited event', async () => {
    const { table: t, verify } = await twoChains();
    await tamper(`UPDATE ${t} SET body = replace(body, '"costUsd":0.000036', '"costUsd":0.000001') WHERE replica = 'gw-b' AND seq = 2`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, replica: 'gw-b', seq: 2, problem: 'changed' });
    expect(formatVerifyResult(result)).toMatch(/^TAMPERED: event #2 changed .*replica gw-b/);
    expect(result.chains.find((c) => c.replica === 'gw-a')?.result.ok).toBe(true);
  });

  it('an edited event whose hash was recomputed (the next link breaks)', async () => {
    const { table: t, verify } = await twoChains();
    const { rows } = await admin.query<{ body: string }>(`SELECT body FROM ${t} WHERE replica = 'gw-a' AND seq = 3`);
    const edited = { ...(JSON.parse(rows[0].body) as ReplicaEvent), code: 'rate.limited' as const };
    const forged = { ...edited, hash: hashEvent(edited) };
    await tamper(`UPDATE ${t} SET body = $1, hash = $2, code = 'rate.limited' WHERE replica = 'gw-a' AND seq = 3`, [serializeEvent(forged), forged.hash]);
    expect(await verify()).toMatchObject({ ok: false, replica: 'gw-a', seq: 3, problem: 'changed' });
  });

  it('a deleted event', async () => {
    const { table: t, verify } = await twoChains();
    await tamper(`DELETE FROM ${t} WHERE replica = 'gw-b' AND seq = 4`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, replica: 'gw-b', seq: 4, problem: 'removed' });
    expect(result.ok === false && result.message).toMatch(/^replica gw-b: event 4 is missing/);
  });

  it('a deleted last event (the replica head remembers it)', async () => {
    const { table: t, verify } = await twoChains();
    await tamper(`DELETE FROM ${t} WHERE replica = 'gw-a' AND seq = 6`);
    expect(await verify()).toMatchObject({ ok: false, replica: 'gw-a', seq: 6, problem: 'removed' });
  });

  it('two reordered events', async () => {
    const { table: t, verify } = await twoChains();
    await tamper(`
      UPDATE ${t} SET seq = -1 WHERE replica = 'gw-b' AND seq = 2;
      UPDATE ${t} SET seq = 2 WHERE replica = 'gw-b' AND seq = 5;
      UPDATE ${t} SET seq = 5 WHERE replica = 'gw-b' AND seq = -1;`);
    expect(await verify()).toMatchObject({ ok: false, replica: 'gw-b', seq: 2, problem: 'reordered' });
  });

  it('an event moved to another replica, and an edited index column', async () => {
    const moved = await twoChains();
    await tamper(`UPDATE ${moved.table} SET replica = 'gw-b', seq = 7 WHERE replica = 'gw-a' AND seq = 6`);
    expect(await moved.verify()).toMatchObject({ ok: false, replica: 'gw-a', seq: 6, problem: 'removed' });

    const column = await twoChains();
    await tamper(`UPDATE ${column.table} SET run = 'r9' WHERE replica = 'gw-b' AND seq = 2`);
    expect(await column.verify()).toMatchObject({ ok: false, replica: 'gw-b', seq: 2, problem: 'changed' });
  });

  it('a deleted head row', async () => {
    const { table: t, verify } = await twoChains();
    await tamper(`DELETE FROM ${t.replace(/"$/, '_heads"')} WHERE replica = 'gw-a'`);
    expect(await verify()).toMatchObject({ ok: false, replica: 'gw-a', seq: 7, problem: 'removed' });
  });

  it('anchors per replica: a head kept elsewhere must still be in that chain', async () => {
    const { verify } = await twoChains();
    const a = sinks.at(-2) as PostgresAuditSink;
    const ok = await verify();
    const b = ok.chains.find((c) => c.replica === 'gw-b')!.result;
    if (!b.ok || !b.head) throw new Error('expected a head');
    expect(await a.verify({ anchors: { 'gw-b': b.head } })).toMatchObject({ ok: true });
    expect(await a.verify({ anchors: { 'gw-b': { seq: 3, hash: 'f'.repeat(64) } } })).toMatchObject({ ok: false, replica: 'gw-b', seq: 3, problem: 'changed' });
    expect(await a.verify({ anchor: { seq: 9, hash: b.head.hash } })).toMatchObject({ ok: false, replica: 'gw-a', problem: 'removed' });
    expect(await a.verify({ anchors: { 'gw-gone': b.head } })).toMatchObject({ ok: false, replica: 'gw-gone', problem: 'removed' });
  });
});

describe('postgres audit sink: configuration', () => {
  it('rejects a bad table name or an empty replica', () => {
    expect(() => createPostgresAuditSink({ connectionString: URL, replica: 'x', table: 'a; DROP TABLE b' })).toThrow(TypeError);
    expect(() => createPostgresAuditSink({ connectionString: URL, replica: '' })).toThrow(TypeError);
  });

  it('uses a shared pool without closing it', async () => {
    const pool = new pg.Pool({ connectionString: URL, max: 2 });
    try {
      const s = createPostgresAuditSink({ pool, replica: 'shared', table: freshTable() });
      const event: AuditEvent = { type: 'kill', time: T0, resource: 'global' };
      expect(await s.append(event)).toMatchObject({ seq: 1, replica: 'shared' });
      await s.close();
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await expect(s.append(event)).rejects.toThrow(/closed/);
    } finally {
      await pool.end();
    }
  });
});
