/**
 * Group commit under kill -9. A child process makes guarded calls on a SQLite store, 16 at a time,
 * and is SIGKILLed mid-load. Reopened: the audit chain verifies; no settled spend is missing from
 * the ledger (every audited call's cost is there, to the nano-dollar); and the calls whose audit event
 * was lost are exactly the last ones recorded — fewer than `audit.maxBatch`, the most a flush window
 * can hold on SQLite (a full batch commits inside `record`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';
import { readRunUsage } from '../../src/runtime/run.ts';

const CHILD = fileURLToPath(new URL('./helpers/crash-child.mjs', import.meta.url));
const WIDTH = 16;
const MAX_BATCH = 64;
const dir = mkdtempSync(join(tmpdir(), 'fmguard-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('kill -9 mid-load: the chain verifies, no settled spend is missing, and at most one flush window of events is lost', async () => {
  const db = join(dir, 'state.db');
  const child = spawn(process.execPath, [CHILD, db, String(WIDTH), '5', String(MAX_BATCH)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let settled = 0;
  let highest = -1;
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the child exited early (${code})`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line.startsWith('c-')) continue;
        settled++;
        highest = Math.max(highest, Number(line.slice(2)));
      }
      // Mid-load: well past several batches, calls in flight and events in the buffer.
      if (settled >= 1500) resolve();
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  const store = createSqliteStore({ path: db });
  const sink = createSqliteAuditSink({ path: db });
  try {
    const verified = await sink.verify();
    expect(verified).toMatchObject({ ok: true });
    expect(verified.gaps ?? []).toEqual([]);

    const events = await sink.query({ type: 'call.allowed', order: 'asc' });
    const audited = new Map(events.map((e) => [e.run!, e]));
    expect(audited.size).toBe(events.length);

    // Every call id the child could have started: those it printed, plus the ones in flight.
    const now = Date.now();
    const settledInLedger: string[] = [];
    for (let i = 0; i <= highest + WIDTH * 2; i++) {
      const usage = await readRunUsage(store, `c-${i}@bot`, now);
      if (usage.steps > 0) settledInLedger.push(`c-${i}@bot`);
    }
    expect(settledInLedger.length).toBeGreaterThanOrEqual(settled);

    // No settled spend missing from the ledger: each audited call's cost is there, to the nano-dollar.
    for (const [run, event] of audited) {
      const usage = await readRunUsage(store, run, now);
      expect(usage.steps).toBe(1);
      expect(Math.round(usage.costUsd * 1e9)).toBe(Math.round(event.costUsd! * 1e9));
    }

    // The calls whose event was lost: settled in the ledger (the ledger commits first), not audited.
    const lost = settledInLedger.filter((run) => !audited.has(run));
    expect(lost.length).toBeLessThan(MAX_BATCH);
    // ...and they are the newest: the one writer's numbers 1..n are all there (no hole, verified above), so
    // every lost event had a number above n: recorded after every event that survived.
    const writerEvents = await sink.query({ order: 'asc' });
    const lastKept = writerEvents.at(-1)!;
    expect(new Set(writerEvents.map((e) => e.writer)).size).toBe(1);
    expect(writerEvents.map((e) => e.wseq)).toEqual(writerEvents.map((_, i) => i + 1));
    const lastTime = lastKept.time;
    process.stdout.write(
      `crash: ${settled} calls answered before the kill, ${settledInLedger.length} settled in the ledger, ${audited.size} audited, ${lost.length} events lost (bound ${MAX_BATCH - 1}); last kept event at ${new Date(lastTime).toISOString()}\n`,
    );
  } finally {
    await sink.close();
    await store.close();
  }
}, 120_000);
