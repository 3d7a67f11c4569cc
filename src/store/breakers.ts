import type { BreakerState } from '../breakers/state.ts';

/** A breaker as stored: its state and a version that every write increments. */
export interface BreakerRecord {
  scope: string;
  state: BreakerState;
  version: number;
}

export type CasResult = { ok: true; record: BreakerRecord } | { ok: false; current: BreakerRecord | undefined };

/**
 * Breaker state per scope key (`provider:sim`, `model:x`, `tool:demo.search`, ...), shared by every
 * replica. Writes are compare-and-set on the version, so concurrent transitions never overwrite
 * each other. Implementations: memory, SQLite.
 */
export interface BreakerStore {
  readonly kind: string;
  get(scope: string): Promise<BreakerRecord | undefined>;
  /**
   * Store `state` if the stored version is `expectedVersion` (0 = no record yet). On success the
   * record has version expectedVersion + 1; on conflict `current` is what is stored now.
   */
  compareAndSet(scope: string, expectedVersion: number, state: BreakerState): Promise<CasResult>;
  /** Forget a scope (operator reset). */
  delete(scope: string): Promise<void>;
  list(): Promise<BreakerRecord[]>;
}
