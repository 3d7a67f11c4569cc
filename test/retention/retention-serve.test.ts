/**
 * `fmguard serve` prunes runs and ledger detail on its own every `retention.everyMs` (a real gateway
 * process on a real SQLite file): old ended runs go, with their kill switches; totals stay the same.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';
import { TOTAL_DIMS } from '../../src/runtime/retention.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { BIN } from '../cli/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-retention-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'state.db');

describe('fmguard serve prunes runs periodically', () => {
  it('deletes old ended runs and their kill switches, keeps running ones, and every total', async () => {
    const clock = new FakeClock(Date.now() - 3 * 3_600_000);
    const config = {
      store: { kind: 'sqlite' as const, path },
      providers: { sim: { kind: 'simulated' as const } },
      models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
      tenants: { acme: {} },
      agents: { bot: { tenant: 'acme', allow: { models: ['*'] } } },
    };
    const guard = createGuard({ config, clock, audit: false });
    for (let i = 0; i < 3; i++) {
      const run = await guard.startRun({ agent: 'bot', id: `old-${i}` });
      await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `q ${i}` }] });
      if (i === 0) await guard.kill('run:old-0', 'test', 'test');
      // A killed run is already stopped; end() changes nothing then.
      await run.end().catch(() => {});
    }
    const keep = await guard.startRun({ agent: 'bot', id: 'still-running' });
    await keep.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'q' }] });
    await guard.close();

    const before = createSqliteStore({ path });
    const totals = await before.runs.totals(TOTAL_DIMS);
    expect(totals.runs).toBe(4);
    expect((await before.kills.list()).has('run:old-0')).toBe(true);
    await before.close();

    const file = join(dir, 'fmguard.yaml');
    writeFileSync(
      file,
      `store: { kind: sqlite, path: '${path}' }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
tenants: { acme: {} }
agents: { bot: { tenant: acme, allow: { models: ['*'] } } }
retention: { runs: { maxAge: 1h }, everyMs: 200 }
`,
    );
    const child = spawn(process.execPath, [BIN, 'serve', '-c', file, '-p', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    try {
      const store = createSqliteStore({ path });
      try {
        const deadline = Date.now() + 45_000;
        let ids: string[] = [];
        while (Date.now() < deadline) {
          ids = (await store.runs.list()).map((r) => r.id);
          // The runs go first, then (the next statement of the same cut) their kill switches.
          if (!ids.includes('old-1') && !(await store.kills.list()).has('run:old-0')) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(ids, err).toEqual(['still-running@bot']);
        expect((await store.kills.list()).has('run:old-0')).toBe(false);
        expect(await store.runs.totals(TOTAL_DIMS)).toEqual(totals);
      } finally {
        await store.close();
      }
    } finally {
      // A process that already exited (it failed to start: its stderr is in the assertion) sends no 'exit' again.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }, 90_000);
});
