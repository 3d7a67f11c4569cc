/**
 * The checks CI runs before the tests fail when they should: .ci/run stops at the first failing
 * check (set -e) and runs them all before `npm test`; madge reports a cycle; the layer check reports
 * a core file importing the runtime and an SDK path reaching the demo.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fmguard-ci-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(root: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function exitCode(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('CI checks', () => {
  it('.ci/run fails on the first failing command and runs typecheck, lint, cycles and layers before the tests', () => {
    const script = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(script).toMatch(/^set -euo pipefail$/m);
    const at = (text: string) => script.indexOf(text);
    for (const check of ['npm run --silent typecheck', 'npm run --silent lint', 'npm run --silent check:cycles', 'npm run --silent check:layers']) {
      expect(at(check), check).toBeGreaterThan(0);
      expect(at(check), check).toBeLessThan(at('npm test'));
    }
  });

  it('madge fails on an import cycle', async () => {
    const src = tree(join(dir, 'cycle'), {
      'a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    const result = await exitCode(join(ROOT, 'node_modules/.bin/madge'), ['--circular', '--extensions', 'ts', '--no-spinner', src]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/a\.ts > b\.ts|b\.ts > a\.ts/);
  });

  it('the layer check fails when core imports the runtime, and when the SDK reaches the demo', async () => {
    const src = tree(join(dir, 'layers'), {
      'index.ts': "export { x } from './wiring/guard.ts';\n",
      'wiring/guard.ts': "import { tools } from '../demo/tools.ts';\nexport const x = tools;\n",
      'demo/tools.ts': 'export const tools = 1;\n',
      'core/money.ts': "import { run } from '../runtime/run.ts';\nexport const m = run;\n",
      'runtime/run.ts': 'export const run = 1;\n',
    });
    const result = await exitCode(process.execPath, ['scripts/check-layers.mjs'], { FMGUARD_LAYERS_SRC: `${src}/` });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/core\/money\.ts: imports runtime\/run\.ts/);
    expect(result.output).toMatch(/the SDK\) loads demo\/tools\.ts/);
  });
});
