import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditSpool } from '../../src/backends/sqlite/audit-spool.ts';
import type { AuditEvent } from '../../src/store/audit.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = () => join(dir, `spool-${++n}.db`);
const ev = (wseq: number, time = 1000 + wseq): AuditEvent => ({ type: 'call.allowed', time, writer: 'w', wseq, details: { wseq } });

describe('the SQLite audit spool', () => {
  it('keeps events in order across a reopen, with its writer and last number', async () => {
    const file = path();
    const spool = createSqliteAuditSpool({ path: file });
    await spool.put([ev(1), ev(2), ev(3)]);
    expect(spool.stats()).toMatchObject({ events: 3, oldest: 1001 });
    expect(spool.stats().bytes).toBeGreaterThan(0);
    const writer = spool.writer;
    await spool.close();

    const again = createSqliteAuditSpool({ path: file });
    expect(again.writer).toBe(writer);
    expect(again.lastWseq).toBe(3);
    const rows = await again.peek(2);
    expect(rows.map((r) => r.event.wseq)).toEqual([1, 2]);
    await again.remove(rows[1]!.id);
    expect(again.stats()).toMatchObject({ events: 1, oldest: 1003 });
    await again.removeThroughWseq(3);
    expect(again.stats()).toEqual({ events: 0, bytes: 0 });
    expect(again.lastWseq).toBe(3); // numbering goes on after the spool empties
    await again.close();
  });

  it('belongs to one live process: a second owner is refused, a dead one is taken over', async () => {
    const file = path();
    const spool = createSqliteAuditSpool({ path: file });
    await spool.close();
    const db = new Database(file);
    // The parent process is alive: it owns the spool now.
    db.prepare("UPDATE spool_meta SET v = ? WHERE k = 'owner'").run(String(process.ppid));
    db.prepare("INSERT INTO spool_meta (k, v) VALUES ('owner', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v").run(String(process.ppid));
    expect(() => createSqliteAuditSpool({ path: file })).toThrow(/in use by process/);
    // A pid that is not running: taken over.
    db.prepare("UPDATE spool_meta SET v = '999999999' WHERE k = 'owner'").run();
    db.close();
    const taken = createSqliteAuditSpool({ path: file });
    await taken.close();
  });

  it('starts a new writer when an empty spool is pointed at another sink', async () => {
    const file = path();
    const a = createSqliteAuditSpool({ path: file, sink: 'postgres://db-a' });
    await a.put([ev(1)]);
    await a.removeThroughWseq(1);
    const first = a.writer;
    await a.close();
    const b = createSqliteAuditSpool({ path: file, sink: 'postgres://db-b' });
    expect(b.writer).not.toBe(first);
    expect(b.lastWseq).toBe(0);
    await b.close();
  });
});
