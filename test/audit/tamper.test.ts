import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEvent, serializeEvent } from '../../src/audit/chain.ts';
import type { StoredEvent } from '../../src/store/audit.ts';
import { formatVerifyResult } from '../../src/audit/format.ts';
import { createJsonlAuditSink } from '../../src/backends/jsonl/audit.ts';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';
import { sampleEvents } from './helpers/events.ts';

// Each test tampers with a fresh copy of one real log file, the way an attacker with file access
// would (direct SQL, a text editor), then opens it as fmguard would and verifies.

let dir: string;
let sqlitePath: string;
let jsonlPath: string;
let copies = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fmguard-tamper-'));
  sqlitePath = join(dir, 'state.db');
  jsonlPath = join(dir, 'audit.jsonl');
  const sqlite = createSqliteAuditSink({ path: sqlitePath });
  const jsonl = createJsonlAuditSink({ path: jsonlPath });
  for (const event of sampleEvents()) {
    await sqlite.append(event);
    await jsonl.append(event);
  }
  await sqlite.close(); // checkpoints the WAL into the main file, so a plain copy is complete
  await jsonl.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyOf(path: string): string {
  const copy = join(dir, `copy-${++copies}-${path.endsWith('.db') ? 'state.db' : 'audit.jsonl'}`);
  copyFileSync(path, copy);
  return copy;
}

async function verifySqlite(path: string) {
  const sink = createSqliteAuditSink({ path });
  try {
    return await sink.verify();
  } finally {
    await sink.close();
  }
}

async function verifyJsonl(path: string, anchor?: { seq: number; hash: string }) {
  const sink = createJsonlAuditSink({ path });
  try {
    return await sink.verify({ anchor });
  } finally {
    await sink.close();
  }
}

function tamperSql(path: string, sql: string) {
  const db = new Database(path);
  db.exec(sql);
  db.close();
}

function editLines(path: string, edit: (lines: string[]) => string[]) {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  writeFileSync(path, `${edit(lines).join('\n')}\n`);
}

describe('SQLite log tampered with by direct SQL', () => {
  it('verifies untouched', async () => {
    const result = await verifySqlite(copyOf(sqlitePath));
    expect(result).toMatchObject({ ok: true, count: 6, head: { seq: 6 } });
    expect(formatVerifyResult(result)).toMatch(/^OK: 6 events verified/);
  });

  it('names an edited event', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(path, `UPDATE audit_events SET body = replace(body, '"costUsd":0.000036', '"costUsd":0.000001') WHERE seq = 2`);
    const result = await verifySqlite(path);
    expect(result).toMatchObject({ ok: false, seq: 2, problem: 'changed' });
    expect(formatVerifyResult(result)).toMatch(/^TAMPERED: event #2 changed/);
  });

  it('names an edited event even when its hash was recomputed', async () => {
    const path = copyOf(sqlitePath);
    const db = new Database(path);
    const { body } = db.prepare('SELECT body FROM audit_events WHERE seq = 3').get() as { body: string };
    const edited = { ...(JSON.parse(body) as StoredEvent), code: 'rate.limited' as const };
    const forged = { ...edited, hash: hashEvent(edited) };
    db.prepare('UPDATE audit_events SET body = ?, hash = ?, code = ? WHERE seq = 3').run(serializeEvent(forged), forged.hash, 'rate.limited');
    db.close();
    expect(await verifySqlite(path)).toMatchObject({ ok: false, seq: 3, problem: 'changed' });
  });

  it('names an event whose index column was edited (queries would miss it)', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(path, `UPDATE audit_events SET run = 'r9' WHERE seq = 2`);
    expect(await verifySqlite(path)).toMatchObject({ ok: false, seq: 2, problem: 'changed' });
  });

  it('names a deleted event', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(path, 'DELETE FROM audit_events WHERE seq = 4');
    expect(await verifySqlite(path)).toMatchObject({ ok: false, seq: 4, problem: 'removed' });
  });

  it('names a deleted last event (the recorded head remembers it)', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(path, 'DELETE FROM audit_events WHERE seq = 6');
    expect(await verifySqlite(path)).toMatchObject({ ok: false, seq: 6, problem: 'removed' });
  });

  it('names the first of two reordered events', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(
      path,
      `UPDATE audit_events SET seq = -1 WHERE seq = 2;
       UPDATE audit_events SET seq = 2 WHERE seq = 5;
       UPDATE audit_events SET seq = 5 WHERE seq = -1;`,
    );
    expect(await verifySqlite(path)).toMatchObject({ ok: false, seq: 2, problem: 'reordered' });
  });

  it('keeps the chain honest when appending after a deleted tail', async () => {
    const path = copyOf(sqlitePath);
    tamperSql(path, 'DELETE FROM audit_events WHERE seq = 6');
    const sink = createSqliteAuditSink({ path });
    const stored = await sink.append(sampleEvents()[0]);
    expect(stored.seq).toBe(7); // continues from the recorded head, so the gap stays visible
    expect(await sink.verify()).toMatchObject({ ok: false, seq: 6, problem: 'removed' });
    await sink.close();
  });
});

describe('JSON Lines log tampered with in an editor', () => {
  it('verifies untouched', async () => {
    expect(await verifyJsonl(copyOf(jsonlPath))).toMatchObject({ ok: true, count: 6, head: { seq: 6 } });
  });

  it('names an edited event', async () => {
    const path = copyOf(jsonlPath);
    editLines(path, (lines) => lines.map((line, i) => (i === 2 ? line.replace('demo.write_file', 'demo.read_file') : line)));
    expect(await verifyJsonl(path)).toMatchObject({ ok: false, seq: 3, problem: 'changed', position: 3 });
  });

  it('names a deleted event', async () => {
    const path = copyOf(jsonlPath);
    editLines(path, (lines) => lines.filter((_, i) => i !== 3));
    expect(await verifyJsonl(path)).toMatchObject({ ok: false, seq: 4, problem: 'removed', position: 4 });
  });

  it('names the first of two reordered events', async () => {
    const path = copyOf(jsonlPath);
    editLines(path, (lines) => {
      [lines[1], lines[4]] = [lines[4], lines[1]];
      return lines;
    });
    expect(await verifyJsonl(path)).toMatchObject({ ok: false, seq: 2, problem: 'reordered', position: 2 });
  });

  it('names a duplicated line as inserted', async () => {
    const path = copyOf(jsonlPath);
    editLines(path, (lines) => [...lines.slice(0, 3), lines[2], ...lines.slice(3)]);
    expect(await verifyJsonl(path)).toMatchObject({ ok: false, seq: 3, problem: 'inserted', position: 4 });
  });

  it('accepts a reformatted but unchanged event (the hash is over canonical JSON)', async () => {
    const path = copyOf(jsonlPath);
    editLines(path, (lines) => lines.map((line, i) => (i === 1 ? JSON.stringify(JSON.parse(line)) : line)));
    expect(await verifyJsonl(path)).toMatchObject({ ok: true, count: 6 });
  });

  it('catches a cut tail against an anchor kept elsewhere', async () => {
    const path = copyOf(jsonlPath);
    const anchor = (await verifyJsonl(path)) as { head: { seq: number; hash: string } };
    editLines(path, (lines) => lines.slice(0, 5));
    expect(await verifyJsonl(path)).toMatchObject({ ok: true, count: 5 });
    expect(await verifyJsonl(path, anchor.head)).toMatchObject({ ok: false, seq: 6, problem: 'removed' });
  });

  it('catches a tail cut while the log is open (the sink remembers its head)', async () => {
    const path = copyOf(jsonlPath);
    const sink = createJsonlAuditSink({ path });
    editLines(path, (lines) => lines.slice(0, 4));
    expect(await sink.verify()).toMatchObject({ ok: false, seq: 5, problem: 'removed' });
    await sink.close();
  });

  it('refuses to open a log whose last line is not an event', () => {
    const path = copyOf(jsonlPath);
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"torn":`);
    expect(() => createJsonlAuditSink({ path })).toThrow(/last line is not an audit event/);
  });
});
