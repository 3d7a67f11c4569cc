import type { Store } from '../../store/store.ts';
import { MemoryApiKeys } from './api-keys.ts';
import { createMemoryApprovalStore } from './approvals.ts';
import { createMemoryAuditSink } from './audit.ts';
import { createMemoryMetricStore } from './metrics.ts';
import { createMemoryAlarmStore, createMemoryBreakerStore } from './versioned.ts';
import { MemoryKills } from './kills.ts';
import { MemoryLedger } from './ledger.ts';
import { MemoryRates } from './rates.ts';
import { EXPIRED_RETENTION_MS } from '../rules.ts';
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
  const approvals = createMemoryApprovalStore();
  const ledger = new MemoryLedger(options.expiredRetentionMs ?? EXPIRED_RETENTION_MS);
  return {
    kind: 'memory',
    ledger,
    rates: new MemoryRates(),
    kills,
    runs: new MemoryRuns(ledger),
    approvals,
    breakers: createMemoryBreakerStore(),
    metrics: createMemoryMetricStore(),
    alarms: createMemoryAlarmStore(),
    apiKeys: new MemoryApiKeys(),
    // Not durable: the default audit log is off with the memory store (an in-memory log would only grow).
    audit: { kind: 'memory', durable: false, open: () => createMemoryAuditSink() },
    async close() {
      kills.close();
      await approvals.close();
    },
  };
}

export { createMemoryApprovalStore } from './approvals.ts';
export { createMemoryAuditSink, type MemoryAuditSink } from './audit.ts';
export { createMemoryMetricStore } from './metrics.ts';
export { createMemoryAlarmStore, createMemoryBreakerStore } from './versioned.ts';
