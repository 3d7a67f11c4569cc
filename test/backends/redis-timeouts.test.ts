/**
 * `store.connectTimeoutMs` and `store.commandTimeoutMs`: a Redis across a slow link needs longer waits
 * than the 500 ms default, and both the server (`openStore`) and the CLI (`openStoreLazily`) must honour
 * them. Against a server that accepts connections and never answers, the store's own refusal names the
 * wait it used, so no test here measures time.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../../src/backends/redis/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/problems.ts';
import { openStoreLazily } from '../../src/wiring/store-lazy.ts';
import { openStore } from '../../src/wiring/store.ts';
import { RUN_TTL_GRACE_MS, redisStoreOptions } from '../../src/wiring/store-options.ts';

const base = { providers: { sim: { kind: 'simulated' } }, tenants: { acme: {} }, audit: { sink: 'none' } };

function problemsOf(raw: object): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('store timeouts in the config', () => {
  it('reads durations in either form', () => {
    const config = parseConfig({ ...base, store: { kind: 'redis', url: 'redis://h:6379', connectTimeoutMs: '3s', commandTimeoutMs: 1500 } });
    expect(config.store).toEqual({ kind: 'redis', url: 'redis://h:6379', connectTimeoutMs: 3000, commandTimeoutMs: 1500 });
  });

  it('refuses waits that are not positive or longer than 10 minutes (a timer past 2^31-1 ms fires at once)', () => {
    expect(problemsOf({ ...base, store: { kind: 'redis', url: 'redis://h', commandTimeoutMs: '11m' } })).toEqual([
      'store.commandTimeoutMs: expected at most 10m',
    ]);
    expect(problemsOf({ ...base, store: { kind: 'redis', url: 'redis://h', connectTimeoutMs: 3_000_000_000 } })).toEqual([
      'store.connectTimeoutMs: expected at most 10m',
    ]);
    expect(problemsOf({ ...base, store: { kind: 'redis', url: 'redis://h', commandTimeoutMs: 0 } })).toEqual([
      'store.commandTimeoutMs: expected a positive duration (milliseconds, or a string such as "30s")',
    ]);
    expect(problemsOf({ ...base, store: { kind: 'redis', url: 'redis://h', commandTimeoutMs: '10m' } })).toEqual([]);
  });

  it('maps every Redis setting to the store options, the same for the server and the CLI', () => {
    const config = parseConfig({
      ...base,
      store: { kind: 'redis', url: 'redis://h:6379', prefix: '{p}:', cluster: [], connectTimeoutMs: 2000, commandTimeoutMs: 700 },
      retention: { runs: { maxAge: '7d' }, ledger: { maxAge: '30d' } },
      metrics: { retentionMs: '2h' },
    });
    if (config.store.kind !== 'redis') throw new Error('expected a redis store');
    expect(redisStoreOptions(config.store, config)).toEqual({
      url: 'redis://h:6379',
      prefix: '{p}:',
      cluster: [],
      connectTimeoutMs: 2000,
      commandTimeoutMs: 700,
      metricsRetentionMs: 7_200_000,
      runTtlMs: 30 * 86_400_000 + RUN_TTL_GRACE_MS,
    });
  });
});

describe('a store opened from the config waits as long as it says', () => {
  /** Accepts connections and never answers: the client never becomes ready. */
  let server: Server;
  const sockets = new Set<Socket>();
  let url = '';

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    url = `redis://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function readyError(open: (config: ReturnType<typeof parseConfig>) => RedisStore | Promise<RedisStore>, store: object) {
    const opened = await open(parseConfig({ ...base, store: { kind: 'redis', url, ...store } }));
    try {
      return await opened.ready().then(
        () => undefined,
        (error: unknown) => error,
      );
    } finally {
      await opened.close();
    }
  }

  it('the server honours commandTimeoutMs, and waits 500 ms without it', async () => {
    const server = (config: ReturnType<typeof parseConfig>) => openStore(config) as RedisStore;
    expect(await readyError(server, { commandTimeoutMs: '120ms' })).toMatchObject({
      code: 'store.unavailable',
      message: 'redis store: connect failed: not connected within 120 ms',
    });
    expect(await readyError(server, {})).toMatchObject({ code: 'store.unavailable', message: 'redis store: connect failed: not connected within 500 ms' });
  });

  it('the CLI honours it too', async () => {
    const cli = async (config: ReturnType<typeof parseConfig>) => (await openStoreLazily(config)) as RedisStore;
    expect(await readyError(cli, { commandTimeoutMs: 90 })).toMatchObject({
      code: 'store.unavailable',
      message: 'redis store: connect failed: not connected within 90 ms',
    });
  });
});
