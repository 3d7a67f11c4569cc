import { defineConfig } from 'vitest/config';
import { CRASH_DIR } from './test/setup/crash-dir.ts';
import { LongestFirst } from './test/setup/longest-first.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build-dist.ts', 'test/setup/crash-report.ts'],
    // A test process that dies (a native abort, a signal) is reported by vitest only as "Worker exited
    // unexpectedly"; these name the file it was running and keep Node's report of a fatal error.
    setupFiles: ['test/setup/crash-watch.ts'],
    execArgv: ['--report-on-fatalerror', '--report-compact', `--report-directory=${CRASH_DIR}`],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Many files wait on sockets, child processes and Chromium: 3 workers keep both cores busy where
    // vitest's default (cores − 1 = one worker here) leaves one idle. Measured on an idle 2-core machine:
    // 800 s with the default, 511 s with 4 workers (docs/testing.md); 3 contend less on a loaded machine.
    maxWorkers: 3,
    // A worker keeps its imports from one file to the next: each file importing the gateway, the SDKs
    // and Cedar afresh was a third of the suite's CPU (511 → 346 s with 4 workers). So a test file must leave nothing
    // behind that another would read: no vi.mock, servers and stores closed, process listeners removed.
    isolate: false,
    // The longest files first, so that none of them starts last (test/setup/longest-first.ts).
    sequence: { sequencer: LongestFirst },
  },
});
