// `npm run mutate:runtime`: src/runtime and the memory and SQLite ledgers and rate buckets.
import base from '../stryker.config.mjs';

export default {
  ...base,
  mutate: [
    'src/runtime/**/*.ts',
    '!src/runtime/index.ts',
    'src/backends/memory/ledger.ts',
    'src/backends/memory/rates.ts',
    'src/backends/sqlite/ledger.ts',
    'src/backends/sqlite/rates.ts',
  ],
  incrementalFile: 'reports/runtime-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/runtime.json' },
};
