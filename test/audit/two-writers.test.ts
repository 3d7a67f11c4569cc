import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-writers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const worker = fileURLToPath(new URL('./helpers/append-worker.ts', import.meta.url));

function runWorker(path: string, writer: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, path, writer, String(count)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${writer} exited ${code}: ${stderr}`))));
  });
}

describe('two writers on one SQLite file', () => {
  it('two connections in one process interleave into one chain', async () => {
    const path = join(dir, 'connections.db');
    const a = createSqliteAuditSink({ path });
    const b = createSqliteAuditSink({ path });
    for (let i = 0; i < 50; i++) {
      await Promise.all([a.append({ type: 'call.allowed', time: i, agent: 'a' }), b.append({ type: 'call.allowed', time: i, agent: 'b' })]);
    }
    expect(await a.verify()).toMatchObject({ ok: true, count: 100 });
    expect(await b.verify()).toMatchObject({ ok: true, count: 100 });
    await a.close();
    await b.close();
  });

  it('two processes appending at once form one valid chain', async () => {
    const path = join(dir, 'processes.db');
    await createSqliteAuditSink({ path }).close(); // create the file and schema before both start
    const count = 300;
    await Promise.all([runWorker(path, 'w1', count), runWorker(path, 'w2', count)]);
    const sink = createSqliteAuditSink({ path });
    expect(await sink.verify()).toMatchObject({ ok: true, count: 2 * count });
    const all = await sink.query({ order: 'asc' });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 2 * count }, (_, i) => i + 1));
    for (const writer of ['w1', 'w2']) {
      // Each writer's own events are all there, in its own order.
      const mine = all.filter((e) => e.agent === writer).map((e) => (e.details as { i: number }).i);
      expect(mine).toEqual(Array.from({ length: count }, (_, i) => i));
    }
    await sink.close();
  });
});
