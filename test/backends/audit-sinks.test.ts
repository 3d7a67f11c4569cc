import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJsonlAuditSink } from '../../src/backends/jsonl/audit.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import type { AuditSink } from '../../src/store/audit-sink.ts';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';
import { sampleEvents, T0 } from '../audit/helpers/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Factory {
  make(): AuditSink;
  /** Open the same log again (persistent sinks only). */
  reopen?: (sink: AuditSink) => AuditSink;
}

const factories: Record<string, () => Factory> = {
  memory: () => ({ make: () => createMemoryAuditSink() }),
  sqlite: () => {
    const path = join(dir, `s${++n}.db`);
    return { make: () => createSqliteAuditSink({ path }), reopen: () => createSqliteAuditSink({ path }) };
  },
  jsonl: () => {
    const path = join(dir, `j${++n}.jsonl`);
    return { make: () => createJsonlAuditSink({ path }), reopen: () => createJsonlAuditSink({ path }) };
  },
};

for (const [name, factory] of Object.entries(factories)) {
  describe(`${name} audit sink`, () => {
    let f: Factory;
    let sink: AuditSink;
    beforeEach(async () => {
      f = factory();
      sink = f.make();
      for (const event of sampleEvents()) await sink.append(event);
    });
    afterEach(() => sink.close());

    const seqs = async (filter: Parameters<AuditSink['query']>[0]) => (await sink.query(filter)).map((e) => e.seq);

    it('returns the stored event from append, numbered and chained', async () => {
      const stored = await sink.append({ type: 'run.completed', time: T0 + 9000, run: 'r1' });
      expect(stored).toMatchObject({ seq: 7, type: 'run.completed', run: 'r1' });
      expect(stored.prevHash).toMatch(/^[0-9a-f]{64}$/);
      expect((await sink.tail(1))[0]).toEqual(stored);
    });

    it('queries newest first by default, oldest first on request', async () => {
      expect(await seqs({})).toEqual([6, 5, 4, 3, 2, 1]);
      expect(await seqs({ order: 'asc' })).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await seqs({ limit: 2 })).toEqual([6, 5]);
      expect(await seqs({ limit: 2, order: 'asc' })).toEqual([1, 2]);
    });

    it('filters by run, agent, tenant, code and type', async () => {
      expect(await seqs({ run: 'r1', order: 'asc' })).toEqual([1, 2, 3]);
      expect(await seqs({ agent: 'billing-bot', order: 'asc' })).toEqual([4, 5]);
      expect(await seqs({ tenant: 'acme', order: 'asc' })).toEqual([1, 2, 3]);
      expect(await seqs({ code: 'budget.exhausted' })).toEqual([4]);
      expect(await seqs({ type: 'call.refused', order: 'asc' })).toEqual([3, 4]);
      expect(await seqs({ type: ['kill', 'breaker.changed'], order: 'asc' })).toEqual([5, 6]);
      expect(await seqs({ run: 'r1', type: 'call.refused' })).toEqual([3]);
      expect(await seqs({ run: 'nope' })).toEqual([]);
    });

    it('filters by time range, from inclusive and to exclusive', async () => {
      expect(await seqs({ from: T0 + 2000, to: T0 + 4000, order: 'asc' })).toEqual([3, 4]);
      expect(await seqs({ from: T0 + 4000 })).toEqual([6, 5]);
      expect(await seqs({ to: T0 + 1000 })).toEqual([1]);
    });

    it('returns the full event body, as appended', async () => {
      const [event] = await sink.query({ code: 'policy.denied' });
      expect(event).toMatchObject(sampleEvents()[2]);
    });

    it('tails the last n events, oldest first', async () => {
      expect((await sink.tail(2)).map((e) => e.seq)).toEqual([5, 6]);
      expect((await sink.tail(100)).length).toBe(6);
      expect(await sink.tail(0)).toEqual([]);
    });

    it('keeps appends made concurrently in one valid chain', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sink.append({ type: 'call.allowed', time: T0 + i, details: { i } })));
      expect(await sink.verify()).toMatchObject({ ok: true, count: 26 });
    });

    if (factories[name]().reopen) {
      it('continues the chain after reopening the log', async () => {
        await sink.close();
        sink = f.reopen!(sink);
        expect((await sink.append({ type: 'run.completed', time: T0 + 9000 })).seq).toBe(7);
        expect(await sink.verify()).toMatchObject({ ok: true, count: 7 });
      });
    }

    it('refuses to work after close', async () => {
      await sink.close();
      if (name !== 'memory') await expect(sink.append(sampleEvents()[0])).rejects.toThrow(/closed/);
    });
  });
}

describe('SQLite sink on a shared database handle', () => {
  it('creates its own tables beside the state and leaves the handle open', async () => {
    const db = new Database(join(dir, 'shared.db'));
    db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY)');
    const sink = createSqliteAuditSink({ db });
    await sink.append(sampleEvents()[0]);
    await sink.close();
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(['audit_events', 'audit_head', 'runs']);
    db.close();
  });
});
