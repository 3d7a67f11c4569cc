import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';
import { sampleEvents } from '../audit/helpers/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-sqlite-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite sink on a shared database handle', () => {
  it('creates its own tables beside the state and leaves the handle open', async () => {
    const db = new Database(join(dir, 'shared.db'));
    db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY)');
    const sink = createSqliteAuditSink({ db });
    await sink.append(sampleEvents()[0]);
    await sink.close();
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(['audit_checkpoint', 'audit_events', 'audit_head', 'runs']);
    db.close();
  });
});
