/**
 * npm run bench:retention — runs and ledger storage for 100,000 requests on the SQLite store, with
 * retention on, and every total before and after each cut.
 *
 * The SDK (`createGuard`) on a real SQLite file, the simulated model in process, a fake clock moving
 * one minute per 1,000 requests (100 minutes in all). Each request is a run of its own (start, one
 * model call, end), so it leaves a run record, its ledger account (steps, tokens, cost), its
 * reservations and its repeat tracker behind. Every 10 minutes of clock the run pruner cuts runs and
 * ledger detail ended more than 30 minutes ago (the same pruner `fmguard serve` runs with
 * `retention: { runs: { maxAge: 30m }, ledger: { maxAge: 30m } }`). Before and after every cut:
 * `store.runs.totals` (all, by tenant, by agent) and the tenant's and agent's budget accounts for
 * the day and the month; each must be exactly the same after the cut as before, and the runs' cost
 * total must equal every budget's. Reported: bytes in use in the file (pages holding data) at each
 * 10,000 requests with retention, the same without retention (a second file, same load), row counts,
 * and the file size after VACUUM. Audit storage has its own bench (`npm run bench:retention:audit`),
 * so the audit log is off here.
 */
import { mkdtempSync, rmSync, } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/backends/sqlite/index.ts';
import { windowId } from '../src/core/periods.ts';
import { createRunPruner, TOTAL_DIMS } from '../src/runtime/retention.ts';
import { accounts, type Store } from '../src/store/store.ts';
import { FakeClock } from '../src/testing/fake-clock.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { writeSection } from './results.ts';
import { sqliteUsage, vacuumedSize } from './sqlite-size.ts';

const REQUESTS = Number(process.env.FMGUARD_BENCH_RETENTION_REQUESTS ?? 100_000);
const PER_MINUTE = Number(process.env.FMGUARD_BENCH_RETENTION_PER_MINUTE ?? 1000);
const SAMPLE_EVERY = REQUESTS / 10;
const KEEP_MS = 30 * 60_000;
const PRUNE_EVERY_MIN = 10;
const CONCURRENCY = 16;
const T0 = Date.UTC(2026, 0, 1, 8);

const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-retention-'));

function inUse(path: string): { bytes: number; runs: number; ledger: number; repeats: number; reservations: number } {
  const { bytes, rows } = sqliteUsage(path, ['fm_runs', 'fm_ledger', 'fm_repeats', 'fm_reservations']);
  return { bytes, runs: rows.fm_runs, ledger: rows.fm_ledger, repeats: rows.fm_repeats, reservations: rows.fm_reservations };
}

async function everyTotal(store: Store, now: number) {
  const budgets = await store.ledger.balances(
    ['tenant:acme', 'agent:bot'].flatMap((scope) => (['day', 'month'] as const).map((period) => ({ key: accounts.budget(scope, period, windowId(period, now)), dim: 'cost' }))),
    now,
  );
  return {
    all: await store.runs.totals(TOTAL_DIMS),
    tenant: await store.runs.totals(TOTAL_DIMS, { tenant: 'acme' }),
    agent: await store.runs.totals(TOTAL_DIMS, { agent: 'bot' }),
    budgets: budgets.map((b) => b.used),
  };
}

async function load(path: string, retention: boolean) {
  const clock = new FakeClock(T0);
  const store = createSqliteStore({ path });
  const guard = createGuard({
    config: {
      store: { kind: 'sqlite', path },
      providers: { sim: { kind: 'simulated' } },
      models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
      tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1_000_000 }, { period: 'month', maxCostUsd: 1_000_000 }] } },
      agents: { bot: { tenant: 'acme', allow: { models: ['*'] }, budgets: [{ period: 'day', maxCostUsd: 1_000_000 }, { period: 'month', maxCostUsd: 1_000_000 }] } },
      defaults: { retry: [] },
    },
    store,
    clock,
    audit: false,
  });
  const pruner = createRunPruner({ store, clock, runsMaxAgeMs: KEEP_MS, ledgerMaxAgeMs: KEEP_MS });
  const samples: Array<{ requests: number; bytes: number; runs: number; ledger: number }> = [];
  const cuts: Array<{ at: number; rolled: number; deleted: number; ms: number; exact: boolean }> = [];
  let mismatches = 0;
  const t0 = performance.now();
  let next = 0;
  const one = async (i: number) => {
    const run = await guard.startRun({ agent: 'bot', id: `r-${i}` });
    await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `request ${i}` }] });
    await run.end();
  };
  while (next < REQUESTS) {
    const batch: Promise<void>[] = [];
    // A batch never crosses a minute (the clock moves between batches).
    const stopAt = Math.min(REQUESTS, (Math.floor(next / PER_MINUTE) + 1) * PER_MINUTE, next + CONCURRENCY);
    while (next < stopAt) batch.push(one(next++));
    await Promise.all(batch);
    if (next % PER_MINUTE === 0) {
      clock.set(clock.now() + 60_000);
      const minute = next / PER_MINUTE;
      if (retention && minute % PRUNE_EVERY_MIN === 0) {
        const before = await everyTotal(store, clock.now());
        const p0 = performance.now();
        const result = await pruner.pruneNow();
        const ms = performance.now() - p0;
        const after = await everyTotal(store, clock.now());
        const exact = JSON.stringify(before) === JSON.stringify(after) && after.budgets.every((b) => b === after.all.used.cost);
        if (!exact) {
          mismatches++;
          process.stderr.write(`totals changed at minute ${minute}: ${JSON.stringify({ before, after })}\n`);
        }
        cuts.push({ at: minute, rolled: result.rolled, deleted: result.deleted, ms, exact });
      }
      if (next % SAMPLE_EVERY === 0) {
        const s = inUse(path);
        samples.push({ requests: next, bytes: s.bytes, runs: s.runs, ledger: s.ledger });
        process.stderr.write(`${retention ? 'with' : 'without'} retention: ${next} requests, ${(s.bytes / 1024).toFixed(0)} KiB in use, ${s.runs} runs, ${s.ledger} ledger rows\n`);
      }
    }
  }
  const loadS = (performance.now() - t0) / 1000;
  const final = await everyTotal(store, clock.now());
  await guard.close();
  await store.close();
  const rows = inUse(path);
  return { samples, cuts, mismatches, loadS, final, rows, file: vacuumedSize(path) };
}

try {
  const withR = await load(join(dir, 'retention.db'), true);
  // The same load without retention, for comparison (FMGUARD_BENCH_RETENTION_COMPARE=0 skips it: it doubles the time).
  const without = process.env.FMGUARD_BENCH_RETENTION_COMPARE === '0' ? undefined : await load(join(dir, 'none.db'), false);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const sameTotals = without === undefined || JSON.stringify(withR.final) === JSON.stringify(without.final);
  const exactAll = withR.mismatches === 0 && sameTotals && withR.final.budgets.every((b) => b === withR.final.all.used.cost);
  const table = withR.samples
    .map((s, i) => {
      const w = without?.samples[i];
      return `| ${s.requests.toLocaleString('en-US')} | ${kib(s.bytes)} (${s.runs} runs, ${s.ledger} ledger rows) | ${w ? `${kib(w.bytes)} (${w.runs} runs, ${w.ledger} ledger rows)` : '—'} |`;
    })
    .join('\n');
  const pruneMs = withR.cuts.map((c) => c.ms).sort((a, b) => a - b);
  const summary = `${REQUESTS.toLocaleString('en-US')} requests: with retention ${kib(withR.samples.at(-1)?.bytes ?? NaN)} in use at the end (file after VACUUM ${kib(withR.file)}), without ${without ? `${kib(without.samples.at(-1)?.bytes ?? NaN)} (file ${kib(without.file)})` : 'not run'}; ${withR.cuts.length} cuts, every total exactly unchanged: ${exactAll ? 'yes' : 'NO'}`;
  console.log(summary);
  console.log(JSON.stringify(withR.final));
  writeSection(
    'Run and ledger retention (bench:retention)',
    `${REQUESTS.toLocaleString('en-US')} requests through the SDK (\`createGuard\`) on the SQLite store (a real file), the simulated model in process, each request a run of its own (start, one model call, end), ${CONCURRENCY} at a time; a fake clock moves one minute per 1,000 requests (${REQUESTS / PER_MINUTE} minutes). With retention, the run pruner (\`retention: { runs: { maxAge: 30m }, ledger: { maxAge: 30m } }\`, what \`fmguard serve\` and \`fmguard prune\` run) cuts every ${PRUNE_EVERY_MIN} minutes of clock; without, the same load on a second file. Audit storage: see "Audit retention" (the audit log is off here). Bytes in use = pages holding data (page count − free pages) × page size.

| requests | with retention (30 min) | without retention |
| --- | --- | --- |
${table}

- file after VACUUM at the end: ${kib(withR.file)} with retention${without ? `, ${kib(without.file)} without` : ''}; rows left with retention: ${withR.rows.runs} runs, ${withR.rows.ledger} ledger rows, ${withR.rows.repeats} repeat trackers, ${withR.rows.reservations} reservations${without ? ` (without: ${without.rows.runs}, ${without.rows.ledger}, ${without.rows.repeats}, ${without.rows.reservations})` : ''}.
- ${withR.cuts.length} cuts, ${withR.cuts.reduce((a, c) => a + c.rolled, 0).toLocaleString('en-US')} runs rolled into period totals and ${withR.cuts.reduce((a, c) => a + c.deleted, 0).toLocaleString('en-US')} deleted; a cut took ${pruneMs[0]?.toFixed(0)}–${pruneMs.at(-1)?.toFixed(0)} ms (batches of 1,000 runs, one transaction each).
- Totals before and after every cut (\`store.runs.totals\`: all runs, by tenant, by agent — runs, steps, tool calls, input/output/total tokens, cost — and the tenant's and agent's day and month budget accounts): **${withR.mismatches === 0 ? 'exactly equal at every cut' : `${withR.mismatches} cuts changed a total`}**; the runs' cost total equals every budget account (${withR.final.all.used.cost} nano-USD); the final totals equal those of the run without retention: **${without ? (sameTotals ? 'yes' : 'no') : 'not run'}** (${withR.final.all.runs} runs, ${withR.final.all.used.total_tokens} tokens).
- Load time: ${withR.loadS.toFixed(1)} s with retention${without ? `, ${without.loadS.toFixed(1)} s without` : ''} (a loaded shared machine).
`,
  );
  if (!exactAll) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
