/**
 * Importing `fmguard` (from dist/, by its package name, as a user does) loads no database driver, no
 * Prometheus client and no policy engine; building a guard with a policy loads cedar-wasm. A child
 * process records every module it loads: a module-loader hook sees each ESM resolution (a static
 * `import 'ioredis'` anywhere on the SDK path shows up there), and require.cache holds the CommonJS
 * modules the lazy loaders pulled in.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

const CHILD = `
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (url) => seen.add(url));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), import.meta.url, { data: { port: port2 }, transferList: [port2] });
const require = createRequire(import.meta.url);
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
const packages = () => {
  const names = new Set();
  for (const url of [...seen, ...Object.keys(require.cache)]) {
    const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(decodeURIComponent(url));
    if (m) names.add(m[1].replace(/\\\\/g, '/'));
  }
  return [...names].sort();
};
const sdk = await import('fmguard');
await settle();
const afterImport = packages();
const guard = sdk.createGuard({
  config: {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: ['sk-light-import-0001'], allow: { models: ['sim-*'] } } },
  },
});
await settle();
const afterGuard = packages();
await guard.close();
port1.close();
console.log(JSON.stringify({ afterImport, afterGuard, exports: Object.keys(sdk).length }));
`;

const HEAVY = ['ioredis', 'pg', 'better-sqlite3', 'prom-client', '@cedar-policy/cedar-wasm'];

describe('importing fmguard', () => {
  it('loads none of ioredis, pg, better-sqlite3, prom-client or cedar-wasm; a guard with a policy then loads cedar-wasm', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: ROOT, timeout: 60_000 });
    const { afterImport, afterGuard, exports } = JSON.parse(stdout.trim().split('\n').pop()!) as {
      afterImport: string[];
      afterGuard: string[];
      exports: number;
    };
    expect(exports).toBeGreaterThan(10);
    for (const name of HEAVY) expect(afterImport, `${name} loaded by import 'fmguard'`).not.toContain(name);
    expect(afterGuard).toContain('@cedar-policy/cedar-wasm');
    // A memory store still needs no driver.
    for (const name of ['ioredis', 'pg', 'better-sqlite3']) expect(afterGuard).not.toContain(name);
  });
});
