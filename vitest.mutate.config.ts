import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against each mutant (`npm run mutate`): the in-process suites over the core
 * guarantees, from source. No dist build, no child processes, no network services but the local ones.
 */
export default defineConfig({
  test: {
    include: [
      'test/core/**/*.test.ts',
      'test/runtime/**/*.test.ts',
      'test/alarms/**/*.test.ts',
      'test/policy/**/*.test.ts',
      'test/audit/**/*.test.ts',
      'test/store/memory.test.ts',
      'test/store/sqlite.test.ts',
      'test/backends/memory.test.ts',
      'test/backends/rules*.test.ts',
      'test/backends/sqlite*.test.ts',
      'test/config/**/*.test.ts',
    ],
    // Tests that start processes from dist/ (the CLI) say nothing about a mutant in src/. (The worker-thread
    // tests import src/runtime/worker-tool.ts: the worker runs a bootstrap string from src, not dist.)
    exclude: ['test/audit/{anchors,config,crash,retention,two-writers,postgres-outage,postgres-writers}.test.ts', 'test/config/cache.test.ts'],
    // Stryker runs the covering tests once per mutant; re-importing every module for every test file
    // was most of that time. The suite runs this way too (vitest.config.ts), so tests already clean up.
    isolate: false,
    // …so the one module-level cache among the mutated files is emptied before each test.
    setupFiles: ['test/setup/mutation-state.ts'],
    // A mutant that hangs a promise fails its test here after 15 s (killed) instead of waiting out
    // Stryker's timeout and a runner restart. Not less: on a loaded machine the tests that start an
    // OS process (the SQLite cross-process kill) take more than 5 s.
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
