/**
 * The first-run install progress (scripts/install-progress.mjs, printed by scripts/ensure-deps.mjs every
 * 5 s): a complete install reads "N of N". Optional platform builds the lock lists but npm skips on this
 * machine (e.g. @esbuild/darwin-arm64) are not counted: they made a finished install read "648 of 713".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeProgress, installProgress } from '../../scripts/install-progress.mjs';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-install-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function install(names: string[]): void {
  for (const name of names) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), '{}');
  }
}

describe('install progress', () => {
  it('counts the packages npm installs here, not the optional builds for other platforms', () => {
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        packages: {
          '': { name: 'x' },
          'node_modules/zod': { version: '4.0.0' },
          'node_modules/@scope/lib': { version: '1.0.0', dev: true },
          'node_modules/@scope/lib/node_modules/nested': { version: '1.0.0' },
          'node_modules/@esbuild/linux-x64': { version: '0.25.0', optional: true, os: ['linux'], cpu: ['x64'] },
          'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true, os: ['darwin'], cpu: ['arm64'] },
          'node_modules/fsevents': { version: '2.3.3', optional: true, os: ['darwin'] },
        },
      }),
    );
    const root = pathToFileURL(`${dir}/`);
    expect(installProgress(root)).toEqual({ present: 0, expected: 2 });
    install(['zod']);
    expect(describeProgress(root)).toBe('1 of 2 packages');
    // Done: npm ci installed the required packages and this platform's optional build only.
    install(['@scope/lib', '@esbuild/linux-x64']);
    expect(describeProgress(root)).toBe('2 of 2 packages');
  });
});
