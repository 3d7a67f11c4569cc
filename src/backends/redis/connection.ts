import type { Redis, RedisOptions } from 'ioredis';
import { loadDriver } from '../driver.ts';
import { guardError, GuardError } from '../../core/errors.ts';

export interface ConnectionOptions {
  url: string;
  /**
   * Redis Cluster: `url` and these are seed nodes; the client discovers the rest and routes each
   * command to the node that owns its key's slot.
   */
  cluster?: readonly string[];
  /** How long a socket connect may take (default 1000). */
  connectTimeoutMs: number;
  /** How long one command may wait for its reply, and a call for a connection (default 500). */
  commandTimeoutMs: number;
  /** Called with every connection error ioredis reports (otherwise they are dropped). */
  onError?: (error: unknown) => void;
}

/**
 * ioredis options that bound every call. No command is queued for later: with the offline queue off,
 * no resend of unanswered commands and no retries per request, a call made while Redis is away fails
 * now instead of running minutes later (a reservation nobody waits for any more). The client keeps
 * reconnecting on its own, so the store recovers without a restart.
 */
export function boundedOptions(options: ConnectionOptions, name: string): RedisOptions {
  return {
    connectionName: name,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever, quickly: a call during the gap fails closed anyway.
    retryStrategy: (times) => Math.min(50 * times, 500),
    keepAlive: 10_000,
  };
}

export function connect(options: ConnectionOptions, name: string, overrides: RedisOptions = {}): Redis {
  const driver = loadDriver<typeof import('ioredis')>('ioredis', 'the Redis store');
  const redis =
    options.cluster === undefined
      ? new driver.Redis(options.url, { ...boundedOptions(options, name), ...overrides })
      : connectCluster(driver, options, name, overrides);
  // Without a listener ioredis prints every connection error; the caller decides what to do with them.
  redis.on('error', (error: unknown) => options.onError?.(error));
  return redis;
}

/**
 * A Redis Cluster client with the same bounds as a single connection: no offline queue, no retry of
 * a command, reconnecting forever. Credentials and TLS of the first seed URL apply to every node the
 * client discovers. The cluster client answers the commands the store sends exactly as one Redis does
 * (routed by key), so the store holds it as one.
 */
function connectCluster(driver: typeof import('ioredis'), options: ConnectionOptions, name: string, overrides: RedisOptions): Redis {
  const seeds = [options.url, ...(options.cluster ?? [])];
  const first = new URL(seeds[0]);
  const { retryStrategy, enableOfflineQueue: _offline, ...node } = { ...boundedOptions(options, name), ...overrides };
  const redisOptions = {
    ...node,
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const cluster = new driver.Cluster(seeds, {
    redisOptions,
    enableOfflineQueue: false,
    clusterRetryStrategy: retryStrategy as (times: number) => number,
    slotsRefreshTimeout: options.connectTimeoutMs,
    // A MOVED or ASK after a resharding is followed at once; a cluster that is down fails the call.
    maxRedirections: 16,
    retryDelayOnClusterDown: 0,
  });
  return cluster as unknown as Redis;
}

// Reply errors that mean "Redis cannot serve this now", as opposed to a bug in a script or a call.
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM|MISCONF)\b/;

/** Map an ioredis failure to what the runtime understands: `store.unavailable` fails closed. */
export function toStoreError(what: string, err: unknown): unknown {
  if (GuardError.isInstance(err) || err instanceof TypeError) return err;
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLY.test(err.message)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return guardError('store.unavailable', `redis store: ${what} failed: ${message}`, { store: 'redis' }, err);
}

/**
 * Runs commands on one connection within a bounded time. A call made while the connection is down
 * waits for it to come back for at most the command timeout, then fails with `store.unavailable`;
 * the command itself then has the command timeout to answer.
 */
export class Gate {
  private waiters = new Set<() => void>();
  private closed = false;

  constructor(
    readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {
    redis.on('ready', () => {
      const waiters = this.waiters;
      this.waiters = new Set();
      for (const wake of waiters) wake();
    });
  }

  async run<T>(what: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw guardError('store.unavailable', `redis store: ${what} failed: the store is closed`, { store: 'redis' });
    if (this.redis.status !== 'ready') await this.waitReady(what);
    try {
      return await fn(this.redis);
    } catch (err) {
      throw toStoreError(what, err);
    }
  }

  /** Resolves once connected; rejects with `store.unavailable` after the timeout. */
  ready(what = 'connect'): Promise<void> {
    return this.redis.status === 'ready' ? Promise.resolve() : this.waitReady(what);
  }

  close(): void {
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  private waitReady(what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (this.redis.status === 'ready' && !this.closed) resolve();
        else reject(guardError('store.unavailable', `redis store: ${what} failed: not connected`, { store: 'redis' }));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          guardError('store.unavailable', `redis store: ${what} failed: not connected within ${this.timeoutMs} ms`, {
            store: 'redis',
            status: this.redis.status,
          }),
        );
      }, this.timeoutMs);
      this.waiters.add(wake);
    });
  }
}
