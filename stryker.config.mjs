// Mutation testing of the core guarantees: `npm run mutate` (not in CI: it takes long).
// Narrow a run with `npm run mutate -- --mutate 'src/core/**/*.ts'`. Results: reports/mutation/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  mutate: [
    'src/core/**/*.ts',
    'src/backends/rules.ts',
    'src/backends/memory/ledger.ts',
    'src/backends/memory/rates.ts',
    'src/backends/sqlite/ledger.ts',
    'src/backends/sqlite/rates.ts',
    'src/runtime/**/*.ts',
    'src/alarms/**/*.ts',
    'src/policy/**/*.ts',
    'src/audit/**/*.ts',
    '!src/**/index.ts',
  ],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 20_000,
  dryRunTimeoutMinutes: 45,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
