/**
 * The package as a user gets it: `npm pack`, install the tarball into an empty project, and there
 * import the SDK from plain JavaScript (a guarded call on the memory store with the simulated model
 * from fmguard/testing), type-check a TypeScript file against the shipped declarations, and run the
 * CLI. dist/ is built by the test setup. The install runs no install scripts (`--ignore-scripts`), so
 * the SDK's memory path must not need better-sqlite3's native build; and it must not build it either:
 * npm 11 still runs a dependency's unreviewed install script, which here (no prebuilt binary reachable)
 * compiled SQLite for minutes, outlived the install's timeout and failed the suite on a loaded machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fmguard-pack-'));
const project = join(dir, 'project');
let files: string[] = [];

const CONFIG = `{
  store: { kind: 'memory' },
  providers: { sim: { kind: 'simulated' } },
  models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: {} },
  agents: { bot: { tenant: 'acme', keys: ['sk-pack-test-0001'], limits: { maxSteps: 5 }, allow: { models: ['sim-*'] } } },
}`;

beforeAll(async () => {
  // --ignore-scripts: prepack would build again; the test setup has just built dist/.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  await run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-fmguard', private: true, type: 'module' }));
  await run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: project,
    timeout: 240_000,
  });
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships dist, bin and the docs, not the sources or the tests', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('bin/fmguard.js');
    for (const doc of ['README.md', 'LICENSE', 'CHANGELOG.md', 'fmguard.example.yaml']) expect(files).toContain(doc);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('installs without building anything: no install script ran', () => {
    expect(existsSync(join(project, 'node_modules', 'fmguard', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'better-sqlite3', 'package.json'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'better-sqlite3', 'build'))).toBe(false);
  });

  it('imports from plain .mjs and makes a guarded call on the memory store with the simulated model', async () => {
    writeFileSync(
      join(project, 'use.mjs'),
      `import { createGuard, GuardError } from 'fmguard';
import { createSimModel, FakeClock } from 'fmguard/testing';
const guard = createGuard({ config: ${CONFIG}, providers: { sim: createSimModel({ clock: new FakeClock() }) } });
const run = await guard.startRun({ agent: 'bot' });
const result = await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }] });
const usage = await run.usage();
await guard.close();
console.log(JSON.stringify({ text: typeof result.response.choices[0].message.content, steps: usage.steps, error: typeof GuardError }));
`,
    );
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: project, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ text: 'string', steps: 1, error: 'function' });
  });

  it('type-checks a TypeScript file against the shipped declarations', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.ts'],
      }),
    );
    writeFileSync(
      join(project, 'check.ts'),
      `import { createGuard, type Guard, type ModelCallResult, type StopCode } from 'fmguard';
import { FakeClock } from 'fmguard/testing';
import { createSqliteStore } from 'fmguard/sqlite';
import { createGateway } from 'fmguard/gateway';
const guard: Guard = createGuard({ config: ${CONFIG}, clock: new FakeClock() });
export async function ask(text: string): Promise<number> {
  const run = await guard.startRun({ agent: 'bot' });
  const result: ModelCallResult = await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: text }] });
  const code: StopCode = 'limit.steps';
  return result.costUsd + code.length;
}
export const gateway = createGateway({ guard });
export const store = createSqliteStore;
createGuard({
  config: ${CONFIG},
  // @ts-expect-error: the declarations are real types, not any
  clock: 'not a clock',
});
`,
    );
    const checked = await run(TSC, ['-p', project], { cwd: project, timeout: 120_000 }).catch((error: { stdout?: string }) => ({
      stdout: error.stdout ?? String(error),
      failed: true,
    }));
    expect(checked.stdout).toBe('');
    expect('failed' in checked).toBe(false);
  });

  it('runs npx fmguard --help', async () => {
    const { stdout } = await run('npx', ['--no-install', 'fmguard', '--help'], { cwd: project, timeout: 60_000 });
    expect(stdout).toMatch(/Usage: fmguard/);
    expect(stdout).toMatch(/serve/);
  });
});
