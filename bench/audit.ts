/**
 * npm run bench:audit — what appending an audit event costs, one transaction per event (how the log
 * wrote before group commit) against group commit (one transaction per flush window), on SQLite and
 * on Postgres behind the local spool.
 *
 * Each row appends the same realistic `call.allowed` event N times. "Per event" rows await each append
 * before the next (one commit each). "Group commit" rows record events as a loaded process would — 16
 * per event-loop turn, as from 16 requests in flight — through the audit log (flushMs 5), then flush.
 * Reported: wall time and process CPU time (user + system) per event, and the commits made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createAuditLog } from '../src/audit/audit-log.ts';
import { createMemoryAuditSink } from '../src/backends/memory/audit.ts';
import { createPostgresAuditSink } from '../src/backends/postgres/audit.ts';
import { createSqliteAuditSink } from '../src/backends/sqlite/audit.ts';
import { createSqliteAuditSpool } from '../src/backends/sqlite/audit-spool.ts';
import type { AuditEvent } from '../src/store/audit.ts';
import type { AuditSink, AuditSpool } from '../src/store/audit-sink.ts';
import { writeSection } from './results.ts';

const N = Number(process.env.FMGUARD_BENCH_AUDIT_EVENTS ?? 20_000);
const N_PG_SERIAL = Math.min(N, 3000);
const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

const event = (i: number): AuditEvent => ({
  type: 'call.allowed',
  time: Date.now(),
  run: `run_${i}`,
  agent: 'support-bot',
  tenant: 'acme',
  action: 'invokeModel',
  resource: 'gpt-4o-mini',
  usage: { inputTokens: 812, outputTokens: 164, cachedTokens: 0 },
  costUsd: 0.000220,
  details: { keyId: 'key_3f9a1c', latencyMs: 412, attempts: 1, maxTokens: 1024, streamed: false, upstreamRequestId: `req_${i}` },
});

interface Row {
  name: string;
  events: number;
  wallUs: number;
  cpuUs: number;
  commits: string;
}

async function measure(name: string, events: number, commits: string, fn: () => Promise<void>): Promise<Row> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const row = { name, events, wallUs: (wall * 1000) / events, cpuUs: (cpu.user + cpu.system) / events, commits };
  process.stderr.write(`${name}: ${row.wallUs.toFixed(1)} µs wall, ${row.cpuUs.toFixed(1)} µs CPU per event\n`);
  return row;
}

/** Record as 16 requests in flight would: 16 events per event-loop turn, then flush. */
async function grouped(sink: AuditSink, n: number, spool?: AuditSpool, maxBatch = 500): Promise<number> {
  let batches = 0;
  const counted: AuditSink = {
    ...sink,
    appendBatch: (e) => (batches++, sink.appendBatch(e)),
    ...(sink.appendBatchSync ? { appendBatchSync: (e: readonly AuditEvent[]) => (batches++, sink.appendBatchSync!(e)) } : {}),
  };
  const log = createAuditLog({ sink: counted, spool, flushMs: 5, maxBatch });
  for (let i = 0; i < n; i += 16) {
    for (let j = i; j < Math.min(n, i + 16); j++) log.record(event(j));
    await new Promise((r) => setImmediate(r));
  }
  await log.flush();
  return batches;
}

const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-audit-'));
const rows: Row[] = [];
try {
  // The floor: redaction, numbering and chaining into memory, no storage.
  rows.push(await measure('the log alone (redact, number, chain; memory sink)', N, '', async () => void (await grouped(createMemoryAuditSink(), N))));
  // SQLite: a file of its own in WAL mode (the driver's default synchronous level, FULL).
  {
    const sink = createSqliteAuditSink({ path: join(dir, 'serial.db') });
    rows.push(await measure('SQLite, one transaction per event (before)', N, `${N}`, async () => void (await grouped(sink, N, undefined, 1))));
    await sink.close();
  }
  {
    const sink = createSqliteAuditSink({ path: join(dir, 'grouped.db') });
    let batches = 0;
    rows.push(await measure('SQLite, group commit (after)', N, '', async () => void (batches = await grouped(sink, N))));
    rows[rows.length - 1]!.commits = String(batches);
    await sink.close();
  }

  // Postgres: the shared server, a table of this run's own schema.
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  const schema = `fmguard_bench_audit_${process.pid}`;
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  try {
    {
      const sink = createPostgresAuditSink({ connectionString: PG_URL, replica: 'serial', table: `${schema}.events` });
      rows.push(
        await measure('Postgres, one transaction per event (before)', N_PG_SERIAL, `${N_PG_SERIAL}`, async () => void (await grouped(sink, N_PG_SERIAL, undefined, 1))),
      );
      await sink.close();
    }
    {
      const sink = createPostgresAuditSink({ connectionString: PG_URL, replica: 'grouped', table: `${schema}.events` });
      const spool = createSqliteAuditSpool({ path: join(dir, 'spool.db') });
      let batches = 0;
      rows.push(await measure('Postgres behind the spool, group commit (after)', N, '', async () => void (batches = await grouped(sink, N, spool))));
      rows[rows.length - 1]!.commits = `${batches} (+ spool)`;
      await spool.close();
      await sink.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => n.toFixed(1);
const before = rows[1]!;
const after = rows[2]!;
writeSection(
  'Audit append cost (bench:audit)',
  `One realistic \`call.allowed\` event recorded ${N} times (Postgres one-per-transaction: ${N_PG_SERIAL}) through the audit log, 16 per
event-loop turn as from 16 requests in flight, then flushed. "Before" writes each event in its own transaction, in order (\`maxBatch: 1\`:
how the log wrote before group commit); "after" is group commit (\`audit.flushMs: 5\`, \`maxBatch: 500\`). CPU is the process's user +
system time per event (what the gateway pays); wall includes waiting for the flush timer and the database.

| path | events | wall µs / event | CPU µs / event | commits |
|---|---:|---:|---:|---:|
${rows.map((r) => `| ${r.name} | ${r.events} | ${fmt(r.wallUs)} | ${fmt(r.cpuUs)} | ${r.commits} |`).join('\n')}

SQLite: ${fmt(before.cpuUs)} → ${fmt(after.cpuUs)} µs CPU per event (${(before.cpuUs / after.cpuUs).toFixed(1)}× less).`,
);
