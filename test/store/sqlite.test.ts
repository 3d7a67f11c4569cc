import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStore } from '../../src/backends/sqlite/index.ts';
import { runStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-contract-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// Each test gets its own file; the twin is a second connection on it (as another process would open).
runStoreContract({
  name: 'sqlite',
  shared: true,
  audit: 'durable',
  open: async () => {
    const path = join(dir, `s${++n}.db`);
    return { store: createSqliteStore({ path }), twin: async () => createSqliteStore({ path }) };
  },
});
