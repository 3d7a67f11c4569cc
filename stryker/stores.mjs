// `npm run mutate:stores`: the ledgers and rate buckets of the memory and SQLite stores (the shared
// rules they apply are in src/backends/rules.ts, mutated with src/core by `mutate:core`).
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/backends/memory/ledger.ts', 'src/backends/memory/rates.ts', 'src/backends/sqlite/ledger.ts', 'src/backends/sqlite/rates.ts'],
  incrementalFile: 'reports/stores-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/stores.json' },
};
