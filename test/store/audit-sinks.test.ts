/**
 * The audit section of the store contract for sinks that are not part of a state store: a SQLite file
 * of its own, JSON Lines, and Postgres (the real one, in a schema made for this run and dropped after).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createJsonlAuditSink } from '../../src/backends/jsonl/audit.ts';
import { createPostgresAuditSink } from '../../src/backends/postgres/audit.ts';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';
import { runAuditContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-sinks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runAuditContract('sqlite file', () => {
  const path = join(dir, `s${++n}.db`);
  return { make: () => createSqliteAuditSink({ path }), reopen: () => createSqliteAuditSink({ path }) };
});

runAuditContract('jsonl', () => {
  const path = join(dir, `j${++n}.jsonl`);
  return { make: () => createJsonlAuditSink({ path }), reopen: () => createJsonlAuditSink({ path }) };
});

const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SCHEMA = `fmguard_contract_${process.pid}_${randomUUID().slice(0, 8)}`;
let admin: pg.Pool;
beforeAll(async () => {
  admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
});
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

runAuditContract('postgres', () => {
  const table = `${SCHEMA}.audit_${++n}`;
  const open = () => createPostgresAuditSink({ connectionString: PG_URL, replica: 'contract', table });
  return { make: open, reopen: open };
});
