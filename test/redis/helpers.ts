/**
 * Shared by the Redis tests: the shared Redis on 6379 (never flushed: every test works under its
 * own prefix and deletes only its own keys), and a private redis-server a test may stop and start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../../src/backends/redis/index.ts';

export const REDIS_URL = process.env.FMGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(tag = 't'): string {
  return `fmguard-test:${tag}:${process.pid}:${randomUUID().slice(0, 8)}:`;
}

/** Delete every key under `prefix` (SCAN + UNLINK; never FLUSH). */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

export async function countKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const redis = new Redis(url);
  redis.on('error', () => {});
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    redis.disconnect();
  }
}

/**
 * A store on the shared Redis under a fresh prefix; closing it also deletes its keys. The command
 * timeout is generous: these tests are about decisions, and share the machine with other suites.
 */
export async function makeTestStore(options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const prefix = options.prefix ?? uniquePrefix();
  const store = createRedisStore({ url: REDIS_URL, commandTimeoutMs: 5000, ...options, prefix });
  await store.ready();
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await close();
      await deleteKeys(prefix);
    },
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server child process (no persistence), to stop and start under load. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'fmguard-redis-'));

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], {
      stdio: 'ignore',
    });
    this.child = child;
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('redis-server did not start');
        await new Promise((r) => setTimeout(r, 25));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Stop it the hard way (a crash), and wait until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async dispose(): Promise<void> {
    if (this.child?.signalCode === 'SIGSTOP') this.child.kill('SIGCONT');
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
