import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';
import { redisStoreOptions } from './store-options.ts';

/**
 * `openStore` for short-lived processes (the CLI): only the backend the config names is imported,
 * so `fmguard runs list` on SQLite never loads the Redis or memory backends' modules.
 */
export async function openStoreLazily(config: FmguardConfig): Promise<Store> {
  switch (config.store.kind) {
    case 'memory':
      return (await import('../backends/memory/index.ts')).createMemoryStore();
    case 'sqlite':
      return (await import('../backends/sqlite/index.ts')).createSqliteStore({ path: config.store.path });
    case 'redis': {
      const { createRedisStore } = await import('../backends/redis/index.ts');
      return createRedisStore(redisStoreOptions(config.store, config));
    }
  }
}
