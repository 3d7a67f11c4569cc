import { createMemoryStore } from '../backends/memory/index.ts';
import { createRedisStore } from '../backends/redis/index.ts';
import { createSqliteStore } from '../backends/sqlite/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';

/** Build the store a config names (its driver is loaded now, not when fmguard is imported). */
export function openStore(config: FmguardConfig): Store {
  switch (config.store.kind) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return createSqliteStore({ path: config.store.path });
    case 'redis':
      return createRedisStore({
        url: config.store.url,
        prefix: config.store.prefix,
        cluster: config.store.cluster,
        metricsRetentionMs: config.metrics.retentionMs,
        runTtlMs: runTtlMs(config),
      });
  }
}

/** A day past the longer retention age: Redis deletes an ended run's keys itself only if no pruner ran. */
export const RUN_TTL_GRACE_MS = 86_400_000;

function runTtlMs(config: FmguardConfig): number | undefined {
  const { runs, ledger } = config.retention;
  if (runs === undefined) return undefined;
  return Math.max(runs.maxAge, ledger?.maxAge ?? 0) + RUN_TTL_GRACE_MS;
}
