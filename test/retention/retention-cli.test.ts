import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';
import { windowId } from '../../src/core/periods.ts';
import { createRunPruner, TOTAL_DIMS } from '../../src/runtime/retention.ts';
import { accounts } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { runCli } from '../cli/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });

const config = {
  store: { kind: 'sqlite' as const, path: join(dir, 'state.db') },
  providers: { sim: { kind: 'simulated' as const } },
  models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: { budgets: [{ period: 'day' as const, maxCostUsd: 1000 }] } },
  agents: { bot: { tenant: 'acme', allow: { models: ['*'] } } },
  defaults: { retry: [] },
};
const configFile = join(dir, 'fmguard.yaml');
writeFileSync(
  configFile,
  `store: { kind: sqlite, path: state.db }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
tenants: { acme: { budgets: [{ period: day, maxCostUsd: 1000 }] } }
agents: { bot: { tenant: acme, allow: { models: ['*'] } } }
retention: { runs: { maxAge: 2h }, ledger: { maxAge: 1h } }
`,
);

const count = (table: string) => {
  const db = new Database(join(dir, 'state.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('retention of runs and ledger detail (SQLite file, CLI)', () => {
  it('fmguard prune rolls and deletes ended runs; every total stays exactly the same', async () => {
    // Real calls, two hours ago, then a run still going.
    const start = Date.now() - 3 * 3_600_000;
    const clock = new FakeClock(start);
    const guard = createGuard({ config, clock, audit: false });
    for (let i = 0; i < 6; i++) {
      const run = await guard.startRun({ agent: 'bot', id: `old-${i}` });
      await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `question ${i}` }] });
      await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `again ${i}` }] });
      await run.end();
    }
    clock.set(Date.now());
    const live = await guard.startRun({ agent: 'bot', id: 'live' });
    await live.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'now' }] });
    await guard.close();

    const totalsBefore = await cli('runs', 'totals', '-c', configFile);
    expect(totalsBefore.code, totalsBefore.err).toBe(0);
    const before = JSON.parse(totalsBefore.out);
    expect(before.runs).toBe(7);
    expect(before.used.steps).toBe(13);
    expect(count('fm_runs')).toBe(7);
    const ledgerRows = count('fm_ledger');

    const pruned = await cli('prune', '-c', configFile);
    expect(pruned.code, pruned.err).toBe(0);
    expect(pruned.out).toContain('6 runs deleted');
    expect(count('fm_runs')).toBe(1);
    // Six runs' accounts (steps, tokens, cost...) are gone; the budget and the live run's stay.
    expect(count('fm_ledger')).toBeLessThan(ledgerRows - 6 * 4);
    const after = JSON.parse((await cli('runs', 'totals', '-c', configFile)).out);
    expect(after).toEqual(before);
    expect(JSON.parse((await cli('runs', 'totals', '-c', configFile, '--tenant', 'acme')).out)).toEqual(before);

    // The day budget (the account the runs' costs were charged to) still equals the runs' total.
    const store = createSqliteStore({ path: join(dir, 'state.db') });
    try {
      const windows = [...new Set([windowId('day', start), windowId('day', Date.now())])];
      const budget = await store.ledger.balances(
        windows.map((w) => ({ key: accounts.budget('tenant:acme', 'day', w), dim: 'cost' })),
        Date.now(),
      );
      expect(budget.reduce((a, b) => a + b.used, 0)).toBe(after.used.cost);
      expect((await store.runs.list()).map((r) => r.id)).toEqual(['live@bot']);
      // Nothing left to cut.
      expect(await createRunPruner({ store, clock: new FakeClock(Date.now()), runsMaxAgeMs: 7_200_000, ledgerMaxAgeMs: 3_600_000 }).pruneNow()).toEqual({
        rolled: 0,
        deleted: 0,
        killsCleared: 0,
      });
      expect(await store.runs.totals(TOTAL_DIMS)).toEqual(after);
    } finally {
      await store.close();
    }
  });

  it('refuses to prune without an age', async () => {
    const bare = join(dir, 'bare.yaml');
    writeFileSync(bare, 'store: { kind: sqlite, path: bare.db }\n');
    const res = await cli('prune', '-c', bare);
    expect(res.code).not.toBe(0);
    expect(res.err).toContain('nothing to prune');
  });
});
