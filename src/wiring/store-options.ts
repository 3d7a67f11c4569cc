import type { RedisStoreOptions } from '../backends/redis/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';

type RedisConfig = Extract<FmguardConfig['store'], { kind: 'redis' }>;

/** A day past the longer retention age: Redis deletes an ended run's keys itself only if no pruner ran. */
export const RUN_TTL_GRACE_MS = 86_400_000;

/** What the config says of the Redis store: one mapping for the server and the CLI, so neither drops a setting. */
export function redisStoreOptions(store: RedisConfig, config: FmguardConfig): RedisStoreOptions {
  return {
    url: store.url,
    prefix: store.prefix,
    cluster: store.cluster,
    connectTimeoutMs: store.connectTimeoutMs,
    commandTimeoutMs: store.commandTimeoutMs,
    metricsRetentionMs: config.metrics.retentionMs,
    runTtlMs: runTtlMs(config),
  };
}

function runTtlMs(config: FmguardConfig): number | undefined {
  const { runs, ledger } = config.retention;
  if (runs === undefined) return undefined;
  return Math.max(runs.maxAge, ledger?.maxAge ?? 0) + RUN_TTL_GRACE_MS;
}
