/**
 * npm run bench:retention:audit — audit storage for 100,000 requests, before and after retention.
 *
 * The events one real guarded call records (a run of its own id: `run.started`, `call.allowed`),
 * captured from the guard, then recorded for 100,000 requests through the audit log into a SQLite
 * file of its own (group commit), each with its own run id; a fake clock moves one minute per 1,000
 * requests (100 minutes in all).
 * Then the pruner cuts every event older than 30 minutes behind a signed checkpoint. Reported: audit
 * bytes in use (pages holding data) and the file size after VACUUM, before and after; that `verify`
 * is clean across the cut; and how long the cut and the verify took.
 */
import { mkdtempSync, rmSync, } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCheckpoint } from '../src/audit/anchor.ts';
import { createAuditLog, type AuditRecord } from '../src/audit/audit-log.ts';
import { createSqliteAuditSink } from '../src/backends/sqlite/audit.ts';
import { toAuditRecord } from '../src/wiring/audit-bridge.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { FakeClock } from '../src/testing/fake-clock.ts';
import { writeSection } from './results.ts';
import { sqliteUsage, vacuumedSize } from './sqlite-size.ts';

const REQUESTS = Number(process.env.FMGUARD_BENCH_RETENTION_REQUESTS ?? 100_000);
const PER_MINUTE = 1000;
const KEEP_MS = 30 * 60_000;
const KEY = 'bench-retention-key-bench-retention-key';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-retention-'));
const path = join(dir, 'audit.db');

function bytes(): { inUse: number; rows: number } {
  const { bytes: inUse, rows } = sqliteUsage(path, ['audit_events']);
  return { inUse, rows: rows.audit_events };
}

try {
  // The events one real guarded request records (a run of its own id: run.started, call.allowed).
  const captured: AuditRecord[] = [];
  const probe = createGuard({
    config: {
      store: { kind: 'memory' },
      providers: { sim: { kind: 'simulated' } },
      models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
      tenants: { acme: {} },
      agents: { bot: { tenant: 'acme', allow: { models: ['*'] } } },
      defaults: { retry: [] },
    },
    audit: false,
  });
  probe.on((event) => {
    const record = toAuditRecord(event);
    if (record) captured.push(record);
  });
  const one = await probe.startRun({ agent: 'bot', id: 'r-0' });
  await one.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'request 0' }] });
  await probe.close();

  // Replayed through the audit log as 100,000 requests would record them: own run id, the time moving.
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const sink = createSqliteAuditSink({ path });
  const log = createAuditLog({ sink, clock, flushMs: 5, retention: { key: KEY, maxAgeMs: KEEP_MS, everyMs: 24 * 3_600_000 } });
  const t0 = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    for (const record of captured) log.record({ ...record, run: `r-${i}`, time: clock.now() });
    if ((i + 1) % PER_MINUTE === 0) {
      clock.set(clock.now() + 60_000);
      await new Promise((r) => setImmediate(r));
    }
  }
  await log.flush();
  const loadS = (performance.now() - t0) / 1000;
  const before = bytes();

  const p0 = performance.now();
  const [cut] = await log.pruner!.pruneNow();
  const pruneMs = performance.now() - p0;
  const v0 = performance.now();
  const verified = await log.sink.verify({ checkSignature: (c) => checkCheckpoint(KEY, c) });
  const verifyMs = performance.now() - v0;
  await log.close();
  if (!verified.ok) throw new Error(`verify after the cut: ${verified.message}`);
  const after = bytes();
  const fileAfter = vacuumedSize(path);

  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  process.stderr.write(`before ${kib(before.inUse)} (${before.rows} events), after ${kib(after.inUse)} (${after.rows}), file after VACUUM ${kib(fileAfter)}\n`);
  writeSection(
    'Audit retention (bench:retention:audit)',
    `${REQUESTS.toLocaleString('en-US')} requests' audit events (those one real guarded call records: \`run.started\` + \`call.allowed\`, each request with
its own run id) through the audit log into a SQLite file of its own, group commit; a fake clock moves 1 minute per ${PER_MINUTE} requests (${REQUESTS / PER_MINUTE} minutes). \`audit.retention.maxAge: 30m\`, one
cut by the pruner; verify (with the checkpoint's signature checked) after it. Load took ${loadS.toFixed(0)} s.

| | events | audit bytes in use | per request |
|---|---:|---:|---:|
| before retention | ${before.rows.toLocaleString('en-US')} | ${kib(before.inUse)} | ${(before.inUse / REQUESTS).toFixed(0)} B |
| after the cut | ${after.rows.toLocaleString('en-US')} | ${kib(after.inUse)} (file after VACUUM: ${kib(fileAfter)}) | ${(after.inUse / REQUESTS).toFixed(0)} B |

Pruned ${cut?.pruned.toLocaleString('en-US') ?? 0} events in ${pruneMs.toFixed(0)} ms behind checkpoint #${cut?.checkpoint.seq ?? '-'}; \`verify\` of the ${verified.count.toLocaleString('en-US')}
events left, from the checkpoint: ${verified.ok ? 'OK' : 'FAILED'} in ${verifyMs.toFixed(0)} ms. Without VACUUM the file keeps its size and SQLite reuses
the freed pages, so it stops growing at about \`maxAge\` worth of events.`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
