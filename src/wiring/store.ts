import { createMemoryStore } from '../backends/memory/index.ts';
import { createRedisStore } from '../backends/redis/index.ts';
import { createSqliteStore } from '../backends/sqlite/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';
import { redisStoreOptions } from './store-options.ts';

/** Build the store a config names (its driver is loaded now, not when fmguard is imported). */
export function openStore(config: FmguardConfig): Store {
  switch (config.store.kind) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return createSqliteStore({ path: config.store.path });
    case 'redis':
      return createRedisStore(redisStoreOptions(config.store, config));
  }
}
