import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The CLI tests run bin/fmguard.js and the package tests import dist/, the way a user would: build
 * dist/ once before any test (incremental, so a build that is up to date costs a second or two).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))], {
    cwd: root,
    stdio: 'inherit',
  });
}
