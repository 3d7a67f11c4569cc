import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBreakerStore } from '../../src/backends/memory/versioned.ts';
import { createSqliteBreakerStore } from '../../src/backends/sqlite/versioned.ts';
import type { BreakerStore } from '../../src/store/breakers.ts';

/** Each kind of store, and a way to get two handles on the same state (two replicas). */
export const STORE_KINDS: Array<{ name: string; make: () => { a: BreakerStore; b: BreakerStore; close: () => void } }> = [
  {
    name: 'memory',
    make: () => {
      const store = createMemoryBreakerStore();
      return { a: store, b: store, close: () => {} };
    },
  },
  {
    name: 'sqlite',
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), 'fmguard-breakers-'));
      const file = join(dir, 'state.db');
      const db1 = new Database(file);
      const db2 = new Database(file);
      db1.pragma('journal_mode = WAL');
      return {
        a: createSqliteBreakerStore(db1),
        b: createSqliteBreakerStore(db2),
        close: () => {
          db1.close();
          db2.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
