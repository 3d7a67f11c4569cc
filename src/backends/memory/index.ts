import type { Store } from '../../store/store.ts';
import { MemoryKills } from './kills.ts';
import { MemoryLedger } from './ledger.ts';
import { MemoryRates } from './rates.ts';
import { EXPIRED_RETENTION_MS } from './rules.ts';
import { MemoryRuns } from './runs.ts';

export interface MemoryStoreOptions {
  /** How long an expired reservation is remembered for a late settle (default 1 h). */
  expiredRetentionMs?: number;
}

/**
 * State in plain Maps, for one process (tests, the SDK, benchmarks). Methods return promises to
 * match the interface but do all their work synchronously, which is also what makes them atomic.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const kills = new MemoryKills();
  return {
    kind: 'memory',
    ledger: new MemoryLedger(options.expiredRetentionMs ?? EXPIRED_RETENTION_MS),
    rates: new MemoryRates(),
    kills,
    runs: new MemoryRuns(),
    async close() {
      kills.close();
    },
  };
}
