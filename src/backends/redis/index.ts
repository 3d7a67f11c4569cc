import { redisCompoundOps } from './compound.ts';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { GuardError } from '../../core/errors.ts';
import { EXPIRED_RETENTION_MS } from '../rules.ts';
import type { Store } from '../../store/store.ts';
import { routeScripts } from './script.ts';
import { connect, Gate, type ConnectionOptions } from './connection.ts';
import { FailPolicy, type FailOpenOption, type FailOpenPart } from './fail-open.ts';
import { keysFor, type Keys } from './keys.ts';
import { RedisKills } from './kills.ts';
import { RedisLedger } from './ledger.ts';
import { RedisRates } from './rates.ts';
import { RedisRuns } from './runs.ts';
import { Subscriber } from './subscriber.ts';
import { createRedisApprovalStore } from './approvals.ts';
import { createRedisApiKeyStore } from './api-keys.ts';
import { createRedisMetricStore } from './metrics.ts';
import { createRedisAlarmStore, createRedisBreakerStore } from './versioned.ts';

export type { FailOpenOption, FailOpenPart } from './fail-open.ts';
export type { RedisKills } from './kills.ts';
export type { RedisHandle } from './handle.ts';
export { createRedisApprovalStore } from './approvals.ts';
export { createRedisAlarmStore, createRedisBreakerStore, type BreakerChangeListener, type RedisBreakerStore } from './versioned.ts';
export { createRedisMetricStore, type RedisMetricStoreOptions } from './metrics.ts';

export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port[/db]` (or `rediss://`). */
  url: string;
  /**
   * Redis Cluster (or Valkey cluster): more seed node URLs besides `url`. Every key then carries the
   * prefix's hash tag, so the prefix must contain one (default in cluster mode `{fmguard}:`).
   */
  cluster?: readonly string[];
  /** Prepended to every key and channel (default `fmguard:`), so deployments can share one Redis. */
  prefix?: string;
  /** How long a socket connect may take (default 1000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long a call may wait for a connection, and then for its reply (default 500 ms each). After
   * that it rejects with `store.unavailable`.
   */
  commandTimeoutMs?: number;
  /** Answer permissively instead of failing closed while Redis is away (default: closed everywhere). */
  failOpen?: FailOpenOption;
  /** Called each time a part failed open, with the error it would have thrown. */
  onFailOpen?: (part: FailOpenPart, error: GuardError) => void;
  /** Connection errors ioredis reports (they are otherwise dropped; calls report their own). */
  onError?: (error: unknown) => void;
  /** How long an expired reservation is remembered for a late settle (default 1 h). */
  expiredRetentionMs?: number;
  /**
   * While anyone listens for kill switches, re-read them this often besides after each reconnect
   * (default 10 s; 0: only after reconnects). Bounds staleness if the pub/sub connection dies silently.
   */
  killResyncMs?: number;
  /** How long a metric series is kept after its last write, by Redis itself (default 25 h). */
  metricsRetentionMs?: number;
  /** An ended run's record and ledger account expire this long after its end (default: never; the pruner deletes them). */
  runTtlMs?: number;
}

export interface RedisStore extends Store {
  readonly kind: 'redis';
  /** This instance's id; its connections are named `fmguard:<id>` and `fmguard-sub:<id>` (CLIENT LIST). */
  readonly id: string;
  /** The command connection (tests and tools inspect keys through it). */
  readonly redis: Redis;
  readonly keys: Keys;
  readonly kills: RedisKills;
  /** Runs commands within the store's time bound, failing with `store.unavailable`. */
  readonly gate: Gate;
  /** The store's pub/sub connection, shared by every module that listens. */
  readonly subscriber: Subscriber;
  /** Resolves once connected; rejects with `store.unavailable` if that takes longer than the command timeout. */
  ready(): Promise<void>;
}

/**
 * State shared by every replica through one Redis. Each decision that must be atomic is one Lua
 * script (one round trip); kill switches travel by pub/sub; reservations carry their deadline and
 * are released by the next sweep after it, whoever runs it. Calls never wait on Redis longer than
 * the command timeout: they fail with `store.unavailable` and the runtime fails closed; the
 * connection keeps reconnecting, so calls succeed again as soon as Redis is back.
 *
 * Run that Redis with persistence (AOF): one that restarts empty has forgotten spend, holds and
 * kill switches, and every replica then sees them gone.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const prefix = options.prefix ?? (options.cluster === undefined ? 'fmguard:' : '{fmguard}:');
  if (options.cluster !== undefined && hashTag(prefix) === undefined) {
    throw new TypeError(`redis store: in a cluster the prefix must contain a hash tag such as "{fmguard}:", got "${prefix}"`);
  }
  const connection: ConnectionOptions = {
    url: options.url,
    cluster: options.cluster,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    onError: options.onError,
  };
  const id = randomUUID().slice(0, 8);
  const redis = connect(connection, `fmguard:${id}`);
  // Every key starts with the prefix, so the prefix itself names the one slot every script runs in.
  if (options.cluster !== undefined) routeScripts(redis, prefix);
  const gate = new Gate(redis, connection.commandTimeoutMs);
  const subscriber = new Subscriber(() => connect(connection, `fmguard-sub:${id}`, { autoResubscribe: false }));
  const policy = new FailPolicy(options.failOpen ?? false, options.onFailOpen);
  const keys = keysFor(prefix);
  const kills = new RedisKills(gate, keys, subscriber, policy, options.killResyncMs ?? 10_000);
  let closed = false;
  const handle = { gate, keys, subscriber };
  const ledger = new RedisLedger(gate, prefix, options.expiredRetentionMs ?? EXPIRED_RETENTION_MS, policy);
  const approvals = createRedisApprovalStore(handle);
  return {
    kind: 'redis',
    id,
    redis,
    keys,
    gate,
    subscriber,
    approvals,
    breakers: createRedisBreakerStore(handle),
    metrics: createRedisMetricStore(handle, { retentionMs: options.metricsRetentionMs }),
    alarms: createRedisAlarmStore(handle),
    apiKeys: createRedisApiKeyStore(handle),
    ledger,
    compound: redisCompoundOps(gate, prefix, ledger, policy),
    rates: new RedisRates(gate, prefix, policy),
    kills,
    runs: new RedisRuns(gate, prefix, options.runTtlMs),
    ready: () => gate.ready(),
    async close() {
      if (closed) return;
      closed = true;
      kills.close();
      await approvals.close();
      subscriber.close();
      gate.close();
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

/** The part of `key` Redis Cluster hashes: the first `{...}` with something inside, as Redis defines it. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}
