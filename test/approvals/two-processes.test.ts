import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteApprovalStore } from '../../src/backends/sqlite/approvals.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-approvals-procs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const worker = fileURLToPath(new URL('./helpers/consume-worker.ts', import.meta.url));

function runWorker(path: string, name: string, iterations: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, path, name, String(iterations)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve((JSON.parse(stdout) as { consumed: string[] }).consumed) : reject(new Error(`${name} exited ${code}: ${stderr}`)),
    );
  });
}

describe('approvals shared by two processes', () => {
  it('each approval is consumed once, and at most one request is ever open', async () => {
    const path = join(dir, 'state.db');
    await createSqliteApprovalStore({ path }).close(); // schema first, so both start on the same footing
    const [a, b] = await Promise.all([runWorker(path, 'p1', 300), runWorker(path, 'p2', 300)]);
    const all = [...a, ...b];
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length); // no approval used twice

    const db = new Database(path, { readonly: true });
    const counts = Object.fromEntries(
      (db.prepare('SELECT status, count(*) AS n FROM approval_requests GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [
        r.status,
        r.n,
      ]),
    );
    db.close();
    expect(counts.consumed).toBe(all.length);
    // Requests are only filed when none is open, so besides consumed ones at most one remains.
    expect((counts.pending ?? 0) + (counts.approved ?? 0)).toBeLessThanOrEqual(1);
  });
});
