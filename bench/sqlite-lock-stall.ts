/**
 * How long fmguard's event loop stalls when another process holds the SQLite write lock (issue 11).
 *
 * A child process opens the same file and holds a write transaction (BEGIN IMMEDIATE) for --hold-ms;
 * meanwhile this process makes one store write (`ledger.reserve`, as a model call's reservation does)
 * with `monitorEventLoopDelay` (1 ms resolution) running, and a 10 ms interval counts how many of its
 * ticks ran during the write. better-sqlite3 waits for the lock inside the call (busy_timeout), so
 * the loop stops for as long as the lock is held (up to the busy timeout, 5 s by default).
 *
 *   npx tsx bench/sqlite-lock-stall.ts [--hold-ms 2000] [--busy-timeout-ms 5000]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../src/backends/sqlite/index.ts';

const { values: opts } = parseArgs({ options: { 'hold-ms': { type: 'string', default: '2000' }, 'busy-timeout-ms': { type: 'string', default: '5000' } } });
const holdMs = Number(opts['hold-ms']);

const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
db.prepare("CREATE TABLE IF NOT EXISTS bench_lock (x)").run();
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.exit(0); }, Number(process.argv[2]));
`;

const dir = mkdtempSync(join(tmpdir(), 'fmguard-lock-'));
const path = join(dir, 'state.db');
const store = createSqliteStore({ path, busyTimeoutMs: Number(opts['busy-timeout-ms']) });
try {
  const holder = spawn(process.execPath, ['-e', HOLDER, path, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const interval = setInterval(() => ticks++, 10);
  histogram.enable();
  // The monitor's first sample only sets its baseline: let it take a few before the write.
  await new Promise((resolve) => setTimeout(resolve, 20));
  ticks = 0;
  const started = performance.now();
  let outcome: string;
  try {
    const result = await store.ledger.reserve({
      id: 'bench-1',
      charges: [{ key: 'run:bench', dim: 'tokens', amount: 10, limit: 1000, code: 'limit.tokens' }],
      expiresAt: Date.now() + 60_000,
      now: Date.now(),
    });
    outcome = result.ok ? 'reserved' : 'refused';
  } catch (error) {
    outcome = `threw ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
  const tookMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 30));
  histogram.disable();
  clearInterval(interval);
  console.log(
    `lock held ${holdMs} ms by another process: reserve ${outcome} after ${tookMs.toFixed(0)} ms; max event-loop delay ${(histogram.max / 1e6).toFixed(0)} ms; 10 ms ticks during it ${ticks}; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  await new Promise((resolve) => holder.once('exit', resolve));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
