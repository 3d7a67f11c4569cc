/**
 * A spool's writer goes on in a new replica chain when its process restarts under another replica
 * name (the default one has the pid in it): verify follows each writer across chains, so numbers
 * continued in another chain are no gap, and a hole between chains still is.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresAuditSink } from '../../src/backends/postgres/audit.ts';
import type { AuditEvent } from '../../src/store/audit.ts';

const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SCHEMA = `fmguard_writers_${process.pid}_${randomUUID().slice(0, 8)}`;
let admin: pg.Pool;
beforeAll(async () => {
  admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
});
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

const numbered = (writer: string, ...wseqs: number[]): AuditEvent[] => wseqs.map((wseq) => ({ type: 'call.allowed', time: 1000 + wseq, writer, wseq }));

it("follows a writer's numbering across replica chains", async () => {
  const open = (replica: string) => createPostgresAuditSink({ connectionString: PG_URL, replica, table: `${SCHEMA}.events` });
  const before = open('host-101');
  const after = open('host-202');
  try {
    await before.appendBatch(numbered('w-spool', 1, 2, 3));
    await after.appendBatch(numbered('w-spool', 4, 5));
    expect(await after.verify()).toMatchObject({ ok: true, count: 5 });
    expect(await after.writerSeq('w-spool')).toBe(5);
    await after.appendBatch(numbered('w-spool', 7));
    expect(await after.verify()).toMatchObject({ ok: false, problem: 'gap', replica: 'host-202', gaps: [{ writer: 'w-spool', from: 6, to: 6 }] });
  } finally {
    await before.close();
    await after.close();
  }
});
