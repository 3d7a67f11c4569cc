import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CRASH_DIR, ROOT } from './crash-dir.ts';

/**
 * Each test process notes the file it is running and removes the note when the file is done. A
 * process that dies on its way (a native abort, a signal) leaves its note behind, and the run's
 * teardown (test/setup/crash-report.ts) names the file: vitest itself says only "Worker exited
 * unexpectedly".
 */
const note = join(CRASH_DIR, `running-${process.pid}`);

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a hook's first parameter as fixtures and refuses any other form; the file is the second.
beforeAll(({}, suite) => {
  mkdirSync(CRASH_DIR, { recursive: true });
  writeFileSync(note, relative(ROOT, suite.file.filepath));
});

afterAll(() => {
  rmSync(note, { force: true });
});
