/**
 * A private 3-master Redis Cluster on free loopback ports, for tests: three `redis-server
 * --cluster-enabled yes` children (no persistence) in a temp dir, joined by `redis-cli --cluster
 * create`, ready once every node reports `cluster_state:ok`. `dispose()` stops them and removes the dir.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './helpers.ts';

const run = promisify(execFile);

export class LocalCluster {
  readonly ports: number[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'fmguard-cluster-'));

  get urls(): string[] {
    return this.ports.map((p) => `redis://127.0.0.1:${p}`);
  }

  async start(masters = 3): Promise<void> {
    for (let i = 0; i < masters; i++) {
      // A cluster node also listens on port + 10000 (the bus): take ports whose bus port is free too.
      const port = await freeClusterPort();
      this.ports.push(port);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(this.dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '5000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--dir',
          this.dir,
        ],
        { stdio: 'ignore' },
      );
      this.children.push(child);
    }
    for (const port of this.ports) await waitFor(`node ${port} up`, async () => (await ask(port, (r) => r.ping())) === 'PONG');
    await run('redis-cli', ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    for (const port of this.ports) {
      await waitFor(`node ${port} cluster_state:ok`, async () => String(await ask(port, (r) => r.cluster('INFO'))).includes('cluster_state:ok'));
    }
  }

  /** The port of the master that owns `key`'s slot. */
  async ownerOf(key: string): Promise<number> {
    const slot = Number(await ask(this.ports[0], (r) => r.cluster('KEYSLOT', key)));
    const slots = (await ask(this.ports[0], (r) => r.cluster('SLOTS'))) as unknown as Array<[number, number, [string, number]]>;
    const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
    if (!range) throw new Error(`no owner for slot ${slot}`);
    return range[2][1];
  }

  /** How many keys each master holds, by port. */
  async keyCounts(): Promise<Record<number, number>> {
    const out: Record<number, number> = {};
    for (const port of this.ports) out[port] = Number(await ask(port, (r) => r.dbsize()));
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    return port;
  }
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`local cluster: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
