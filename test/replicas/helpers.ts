/**
 * Real gateway replicas for the replica tests: each one is `node bin/fmguard.js serve` in its own OS
 * process, on its own port, with a config file written for the test (JSON, which YAML reads as is).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Pool } from 'undici';
import type { ConfigInput } from '../../src/config/schema.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'fmguard.js');

export const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const BOT_KEY = 'sk-replica-bot-0001';
export const ADMIN_TOKEN = 'admin-replica-token-0001';
export const TENANT = 'acme';

/** A gateway config on the simulated provider and a Redis store; `extra` is merged over it at the top level. */
export function replicaConfig(redis: { url: string; prefix: string }, agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'redis', url: redis.url, prefix: redis.prefix },
    providers: { sim: { kind: 'simulated' } },
    models: {
      // A self-hosted model: steps count, spend does not.
      'sim-free': { provider: 'sim', inputPerMTok: 0, outputPerMTok: 0 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
    },
    tenants: { [TENANT]: {} },
    agents: {
      bot: { tenant: TENANT, keys: [BOT_KEY], allow: { models: ['*'], tools: ['*'] }, ...agent } as never,
    },
    defaults: { retry: [] },
    audit: { sink: 'none' },
    server: { adminToken: ADMIN_TOKEN },
    ...extra,
  } as ConfigInput;
}

export interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (for failure messages). */
  stderr: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Temporary directory for config files; removed by `cleanup()`. */
export class Replicas {
  readonly dir = mkdtempSync(join(tmpdir(), 'fmguard-replicas-'));
  readonly all: Replica[] = [];

  /** Start `node bin/fmguard.js serve --config <file> --port 0` and wait for its URL. */
  async start(name: string, config: ConfigInput, env: Record<string, string> = {}): Promise<Replica> {
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], {
      cwd: this.dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replica ${name} did not start in 90 s; stderr: ${err}`)), 90_000);
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`replica ${name} exited (${code ?? signal}) before listening; stderr: ${err}`));
      });
    });
    const replica: Replica = { name, url, child, stderr: () => err, exited };
    this.all.push(replica);
    return replica;
  }

  /** Start several at once (they compile and connect in parallel). */
  startMany(configs: Array<[name: string, config: ConfigInput, env?: Record<string, string>]>): Promise<Replica[]> {
    return Promise.all(configs.map(([name, config, env]) => this.start(name, config, env)));
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(replica: Replica): Promise<void> {
    if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
    await replica.exited;
  }

  /** Stop every replica (SIGTERM, then SIGKILL after 3 s) and remove the config files. */
  async cleanup(): Promise<void> {
    await Promise.all(
      this.all.splice(0).map(async (r) => {
        if (r.child.exitCode !== null || r.child.signalCode !== null) return;
        r.child.kill('SIGTERM');
        const timer = setTimeout(() => r.child.kill('SIGKILL'), 3000);
        await r.exited;
        clearTimeout(timer);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Reply {
  status: number;
  code: string | undefined;
  body: string;
}

/** POST /v1/chat/completions on an undici pool (bounded connections), the body read whole. */
export async function chat(pool: Pool, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  const code = res.headers['x-fmguard-code'];
  return { status: res.statusCode, code: typeof code === 'string' ? code : undefined, body: text };
}

/** POST an admin route with the bearer token. */
export async function admin(url: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/admin/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export function ask(text: string, model: string, extra: Record<string, unknown> = {}) {
  return { model, messages: [{ role: 'user' as const, content: text }], ...extra };
}

export function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** A Postgres schema of the test's own (dropped by `drop()`); a connection URL whose search_path is it. */
export async function pgSchema(): Promise<{ name: string; url: string; pool: pg.Pool; drop: () => Promise<void> }> {
  const name = `fmguard_replicas_${process.pid}_${randomUUID().slice(0, 8)}`;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await pool.query(`CREATE SCHEMA "${name}"`);
  const sep = PG_URL.includes('?') ? '&' : '?';
  return {
    name,
    url: `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${name}`)}`,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await pool.end();
    },
  };
}
