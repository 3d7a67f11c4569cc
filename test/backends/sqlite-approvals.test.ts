import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteApprovalStore } from '../../src/backends/sqlite/approvals.ts';
import { checkApproval } from '../../src/approvals/gate.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-approvals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite approval store', () => {
  it('shares a state database handle, keeps it open, and survives a restart', async () => {
    const path = join(dir, 'shared.db');
    const db = new Database(path);
    const store = createSqliteApprovalStore({ db });
    const first = await checkApproval({ store, run: 'r1', agent: 'a', tool: 't', args: { x: [1, { y: 2 }] }, now: 1000, ttlMs: 10_000 });
    await store.close();
    expect(db.open).toBe(true);
    db.close();

    const reopened = createSqliteApprovalStore({ path });
    expect(await reopened.get(first.request.id, 1000)).toEqual(first.request);
    await reopened.close();
  });
});
