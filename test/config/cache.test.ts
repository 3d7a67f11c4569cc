/**
 * The CLI's config cache (src/config/cache.ts): a hit is exactly what a full load returns, anything a
 * load depends on (the text, a variable it reads, the path) misses, a bad config is never cached (the
 * same errors every time), entries are encrypted, and a second `fmguard runs list` loads neither zod nor
 * yaml (issue 15: the CLI's cold start).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFileCached } from '../../src/config/cache.ts';
import { loadConfigFile } from '../../src/config/load.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fmguard-config-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'sk-cache-test-secret-0123456789';
const text = (model = 'sim-small') => `
providers: { sim: { kind: simulated } }
models: { ${model}: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
tenants: { acme: {} }
store: { kind: sqlite, path: '\${CACHE_TEST_DIR}/state.db' }
agents: { bot: { tenant: acme, keys: ['\${CACHE_TEST_KEY}'] } }
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}
async function asyncErrorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('config cache', () => {
  it('a hit is exactly the full load; the text, a variable read or the path changing is a miss', async () => {
    const sub = mkdtempSync(join(dir, 'hit-'));
    const file = join(sub, 'fmguard.yaml');
    writeFileSync(file, text());
    const env = { CACHE_TEST_DIR: '/data/a', CACHE_TEST_KEY: SECRET };
    const first = await loadConfigFileCached(file, { env });
    expect(first.cache).toBe('miss');
    const second = await loadConfigFileCached(file, { env });
    expect(second.cache).toBe('hit');
    expect(second.config).toStrictEqual(loadConfigFile(file, { env }));
    // A variable the config does not read changes nothing.
    expect((await loadConfigFileCached(file, { env: { ...env, UNRELATED: 'x' } })).cache).toBe('hit');

    // A variable it reads: the new value, not the cached one.
    const moved = await loadConfigFileCached(file, { env: { ...env, CACHE_TEST_DIR: '/data/b' } });
    expect(moved.cache).toBe('miss');
    expect(moved.config.store).toEqual({ kind: 'sqlite', path: '/data/b/state.db' });
    // The audit key is read from the environment too (recorded although the text never names it).
    expect((await loadConfigFileCached(file, { env: { ...env, CACHE_TEST_DIR: '/data/b', FMGUARD_AUDIT_KEY: 'k'.repeat(40) } })).cache).toBe('miss');

    // The text (same size: a cache keyed on size and mtime alone could miss this).
    writeFileSync(file, text('sim-large'));
    const edited = await loadConfigFileCached(file, { env });
    expect(edited.cache).toBe('miss');
    expect(Object.keys(edited.config.models)).toEqual(['sim-large']);

    // The same text at another path (relative paths resolve against the folder).
    const other = mkdtempSync(join(dir, 'other-'));
    writeFileSync(join(other, 'fmguard.yaml'), 'providers: { sim: { kind: simulated } }\n');
    writeFileSync(file, 'providers: { sim: { kind: simulated } }\n');
    const here = await loadConfigFileCached(file, { env });
    const there = await loadConfigFileCached(join(other, 'fmguard.yaml'), { env });
    expect(there.config.store).toEqual({ kind: 'sqlite', path: join(other, '.fmguard/state.db') });
    expect(here.config.store).toEqual({ kind: 'sqlite', path: join(sub, '.fmguard/state.db') });
    expect((await loadConfigFileCached(file, { env })).config.store).toEqual(here.config.store);
  });

  it('a bad config is never cached: the same errors as a full load, every time', async () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    const file = join(sub, 'fmguard.yaml');
    writeFileSync(file, text());
    const env = { CACHE_TEST_DIR: '/data/a', CACHE_TEST_KEY: SECRET };
    await loadConfigFileCached(file, { env });
    expect((await loadConfigFileCached(file, { env })).cache).toBe('hit');
    // The variable unset, then a schema error, then a syntax error, then no file.
    const unset = { CACHE_TEST_DIR: '/data/a' };
    expect(await asyncErrorOf(loadConfigFileCached(file, { env: unset }))).toBe(errorOf(() => loadConfigFile(file, { env: unset })));
    expect(await asyncErrorOf(loadConfigFileCached(file, { env: unset }))).toMatch(/CACHE_TEST_KEY is not set/);
    for (const bad of [`${text()}limits: { maxStep: 3 }\n`, 'agents: [\n']) {
      writeFileSync(file, bad);
      const expected = errorOf(() => loadConfigFile(file, { env }));
      expect(await asyncErrorOf(loadConfigFileCached(file, { env }))).toBe(expected);
      expect(await asyncErrorOf(loadConfigFileCached(file, { env }))).toBe(expected);
    }
    rmSync(file);
    expect(await asyncErrorOf(loadConfigFileCached(file, { env }))).toBe(errorOf(() => loadConfigFile(file, { env })));
  });

  it('entries are encrypted and private; a damaged entry is a miss; FMGUARD_CONFIG_CACHE=0 turns it off', async () => {
    const sub = mkdtempSync(join(dir, 'enc-'));
    const file = join(sub, 'fmguard.yaml');
    writeFileSync(file, text());
    const env = { CACHE_TEST_DIR: '/data/a', CACHE_TEST_KEY: SECRET };
    await loadConfigFileCached(file, { env });
    const cacheDir = join(sub, '.fmguard', 'config-cache');
    const [entry] = readdirSync(cacheDir);
    const bytes = readFileSync(join(cacheDir, entry!));
    expect(bytes.includes(SECRET)).toBe(false);
    expect(bytes.includes('/data/a')).toBe(false);
    expect(statSync(join(cacheDir, entry!)).mode & 0o777).toBe(0o600);

    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(join(cacheDir, entry!), bytes);
    const damaged = await loadConfigFileCached(file, { env });
    expect(damaged.cache).toBe('miss');
    expect(damaged.config).toStrictEqual(loadConfigFile(file, { env }));
    expect((await loadConfigFileCached(file, { env })).cache).toBe('hit');

    const off = mkdtempSync(join(dir, 'off-'));
    writeFileSync(join(off, 'fmguard.yaml'), text());
    expect((await loadConfigFileCached(join(off, 'fmguard.yaml'), { env: { ...env, FMGUARD_CONFIG_CACHE: '0' } })).cache).toBe('off');
    expect(readdirSync(off)).toEqual(['fmguard.yaml']);
  });

  it('the shipped example and the bench configs round-trip exactly', async () => {
    const env = {
      FMGUARD_BENCH_DIR: '/tmp/x',
      FMGUARD_BENCH_UPSTREAM: 'http://127.0.0.1:9',
      FMGUARD_BENCH_TOOLS: 'http://127.0.0.1:9/mcp',
      FMGUARD_BENCH_KEY: 'sk-bench-0001',
      FMGUARD_BENCH_REDIS_URL: 'redis://127.0.0.1:9',
      FMGUARD_BENCH_REDIS_PREFIX: 'p:',
    };
    for (const name of ['fmguard.example.yaml', 'bench/configs/sqlite.yaml', 'bench/configs/redis.yaml', 'bench/configs/memory.yaml']) {
      const cacheDir = mkdtempSync(join(dir, 'shipped-'));
      const file = join(REPO, name);
      await loadConfigFileCached(file, { env, cacheDir });
      const hit = await loadConfigFileCached(file, { env, cacheDir });
      expect(hit.cache, name).toBe('hit');
      expect(hit.config, name).toStrictEqual(loadConfigFile(file, { env }));
    }
  });

  it('a second `fmguard runs list` (compiled CLI) loads neither zod nor yaml, and follows a change to the config', async () => {
    const sub = mkdtempSync(join(dir, 'cli-'));
    const file = join(sub, 'fmguard.yaml');
    writeFileSync(file, text());
    // Prints every module URL the process loads through the ESM loader (zod and yaml are ESM / loaded from ESM).
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("loaded " + r.url); return r; }'));`,
    )}`;
    const run = async (env: Record<string, string>) => {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', hook, join(REPO, 'bin/fmguard.js'), 'runs', 'list', '-c', file, '--json'],
        {
          cwd: sub,
          env: { ...process.env, ...env },
          timeout: 60_000,
        },
      );
      const loaded = stderr.split('\n').filter((l) => l.startsWith('loaded '));
      return { runs: JSON.parse(stdout) as unknown[], zodOrYaml: loaded.filter((l) => /node_modules\/(zod|yaml)\//.test(l)) };
    };
    const env = { CACHE_TEST_DIR: join(sub, 'a'), CACHE_TEST_KEY: SECRET };
    const first = await run(env);
    expect(first.zodOrYaml.length).toBeGreaterThan(0);
    const second = await run(env);
    expect(second.runs).toEqual([]);
    expect(second.zodOrYaml).toEqual([]);
    // fmguard's own code rebuilt (a module of the config folder with a new mtime): validated again.
    const schema = join(REPO, 'dist/config/schema.js');
    const { atime, mtime } = statSync(schema);
    try {
      utimesSync(schema, atime, new Date(mtime.getTime() + 1000));
      expect((await run(env)).zodOrYaml.length).toBeGreaterThan(0);
      expect((await run(env)).zodOrYaml).toEqual([]);
    } finally {
      utimesSync(schema, atime, mtime);
    }
    // The store path comes from a variable: a new value opens the other database (created there).
    await run({ ...env, CACHE_TEST_DIR: join(sub, 'b') });
    expect(readdirSync(join(sub, 'b'))).toContain('state.db');
    // An invalid config fails with the full load's errors although a valid one was cached.
    writeFileSync(file, `${text()}limits: { maxStep: 3 }\n`);
    const failed = await asyncErrorOf(run(env));
    expect(failed).toContain('invalid configuration');
    expect(failed).toContain(errorOf(() => loadConfigFile(file, { env })));
  });
});
