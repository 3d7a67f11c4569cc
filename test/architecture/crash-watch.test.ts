import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../setup/crash-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// vitest reports a test process that died only as "Worker exited unexpectedly"; CI shows the end
// of the output, so the file it was running must be named there (test/setup/crash-watch.ts).
it('names the file a test process died in, and no file that finished', async () => {
  const result = await promisify(execFile)(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/crash/vitest.config.ts'], {
    cwd: ROOT,
    env: { ...process.env, FMGUARD_TEST_CRASH_DIR: dir, FORCE_COLOR: '0' },
  }).catch((error: { code: number; stdout: string; stderr: string }) => error);
  expect((result as { code?: number }).code).toBe(1);
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).toContain('Worker exited unexpectedly');
  expect(output).toMatch(/\[crash-watch\] test process \d+ ended while running test\/fixtures\/crash\/abort\.crash\.ts/);
  expect(output.match(/\[crash-watch\]/g)).toHaveLength(1);
});
