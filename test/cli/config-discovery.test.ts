import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, runCli } from './helpers.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/broken/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fmguard-discovery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real CLI, in `cwd`, with exactly the environment given (plus PATH): no FMGUARD_CONFIG leaks in. */
function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCli(args, { cwd: options.cwd ?? dir, env: { PATH: process.env.PATH ?? '', ...options.env } });
}

/** `fmguard serve -p 0`: 'listening' once it prints its URL (then it is stopped), else its exit code and stderr. */
function serve(file: string): Promise<{ verdict: 'listening' | 'refused'; code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    let out = '';
    let err = '';
    let listening = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!listening && out.includes('listening on')) {
        listening = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => resolve({ verdict: listening ? 'listening' : 'refused', code, err }));
  });
}

const portConfig = (port: number) =>
  `server: { port: ${port} }\nstore: { kind: memory }\nproviders: { sim: { kind: simulated } }\nmodels: { m: { provider: sim, inputPerMTok: 1, outputPerMTok: 1 } }\ntenants: { t: {} }\nagents: { a: { tenant: t } }\n`;
const portOf = (r: CliResult) => (JSON.parse(r.out) as { server: { port: number } }).server.port;

describe('config discovery: --config, else $FMGUARD_CONFIG, else ./fmguard.yaml, else a clear error', { timeout: 120_000 }, () => {
  const empty = mkdtempSync(join(dir, 'empty-'));
  const withLocal = mkdtempSync(join(dir, 'local-'));
  writeFileSync(join(withLocal, 'fmguard.yaml'), portConfig(1111));
  const fromEnv = join(dir, 'env.yaml');
  writeFileSync(fromEnv, portConfig(2222));
  const explicit = join(dir, 'explicit.yaml');
  writeFileSync(explicit, portConfig(3333));

  it('with nothing to find, every command says what it looked for, how to start, and which example exists', async () => {
    for (const args of [
      ['runs', 'list'],
      ['config', 'check'],
      ['audit', 'tail'],
      ['policy', 'check'],
      ['serve', '--port', '0'],
    ]) {
      const r = await cli(args, { cwd: empty });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toContain('--config FILE');
      expect(r.err).toContain('$FMGUARD_CONFIG');
      expect(r.err).toContain(`./fmguard.yaml    not found in ${empty}`);
      expect(r.err).toContain(`cp ${join(REPO, 'fmguard.example.yaml')} fmguard.yaml`);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('./fmguard.yaml is found in the working directory', async () => {
    expect(portOf(await cli(['config', 'check', '--json'], { cwd: withLocal }))).toBe(1111);
  });

  it('$FMGUARD_CONFIG beats ./fmguard.yaml', async () => {
    expect(portOf(await cli(['config', 'check', '--json'], { cwd: withLocal, env: { FMGUARD_CONFIG: fromEnv } }))).toBe(2222);
  });

  it('--config (or the positional file) beats both', async () => {
    expect(portOf(await cli(['config', 'check', '--json', '--config', explicit], { cwd: withLocal, env: { FMGUARD_CONFIG: fromEnv } }))).toBe(3333);
    expect(portOf(await cli(['config', 'check', '--json', explicit], { cwd: withLocal, env: { FMGUARD_CONFIG: fromEnv } }))).toBe(3333);
    expect((await cli(['runs', 'list', '--json', '-c', explicit], { cwd: empty })).out.trim()).toBe('[]');
  });

  it('an example in the working directory is the one named', async () => {
    const here = mkdtempSync(join(dir, 'example-'));
    copyFileSync(join(REPO, 'fmguard.example.yaml'), join(here, 'fmguard.example.yaml'));
    const r = await cli(['runs', 'list'], { cwd: here });
    expect(r.code).toBe(1);
    expect(r.err).toContain('cp fmguard.example.yaml fmguard.yaml');
  });
});

// Every file `fmguard serve` refuses, `fmguard config check` refuses with the same message (and the good one passes both).
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('config check runs the same validation as serve', { timeout: 300_000 }, () => {
  it('has a table of broken fixtures covering the schema, references, YAML, alarms, audit and Cedar (syntax, schema, context, missing file)', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    expect(fixtures).toContain('ok.yaml');
  });

  it.each(fixtures)('%s: the same verdict and message from both', async (name) => {
    const file = join(FIXTURES, name);
    const [check, served] = [await cli(['config', 'check', file]), await serve(file)];
    if (name === 'ok.yaml') {
      expect(check.code).toBe(0);
      expect(served.verdict).toBe('listening');
      return;
    }
    expect(served.verdict).toBe('refused');
    expect(served.code).toBe(1);
    expect(check.code).toBe(1);
    expect(check.err.trim()).not.toBe('');
    expect(check.err.trim()).toBe(served.err.trim());
  });
});
