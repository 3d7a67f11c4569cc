// Mutation testing of the core guarantees: `npm run mutate` (not in CI: it takes long).
// The targets of issue 20 run in three parts, each with its own report and incremental file (stryker/*.mjs:
// `npm run mutate:core`, `mutate:stores`, `mutate:wire`, `mutate:runtime`); `npm run mutate:score` sums the reports.
// Narrow a run with `npm run mutate -- --mutate 'src/core/periods.ts'` (the CLI splits --mutate on
// commas, so a brace glob such as `{a,b}.ts` must be written as two patterns in a config file).
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
  // Three runners on two cores: many tests wait on timers and sockets.
  concurrency: 3,
  // A mutant that hangs a promise costs this much (plus a runner restart) before it counts as detected.
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 45,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  // Never copy another run's sandbox (or old reports) into this one's.
  ignorePatterns: ['/.stryker-tmp*', '/reports'],
};
