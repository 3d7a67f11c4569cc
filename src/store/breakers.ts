import type { VersionedRecord, VersionedStore } from './versioned.ts';

/** A probe call admitted while half-open; its slot frees itself at `expiresAt`. */
export interface Probe {
  id: string;
  expiresAt: number;
}

/**
 * A breaker's state: plain data, so every store persists the same shape. `epoch` changes on every
 * phase change, so results of calls admitted in an earlier phase are recognized and ignored.
 * `by` says who opened it (`auto`, `alarm:<name>`, `operator:<who>`).
 */
export type BreakerState =
  | { kind: 'closed'; epoch: number; since: number; failures: number }
  | { kind: 'open'; epoch: number; since: number; until: number | null; cooldownMs: number; probes: number; by: string; reason: string }
  | {
      kind: 'halfOpen';
      epoch: number;
      since: number;
      cooldownMs: number;
      probes: number;
      successes: number;
      pending: Probe[];
      by: string;
      reason: string;
    };

/** A breaker as stored: its state and a version that every write increments. */
export type BreakerRecord = VersionedRecord<BreakerState>;

export type { CasResult } from './versioned.ts';

/**
 * A breaker changed on some replica (version undefined: deleted). Scope `*` means "anything may have
 * changed": sent whenever a subscription is (re)established, since messages sent meanwhile are lost.
 */
export type BreakerChangeListener = (scope: string, version: number | undefined) => void;

/**
 * Breaker state per scope key (`provider:sim`, `model:x`, `tool:demo.search`, ...), shared by every
 * replica. Writes are compare-and-set on the version, so concurrent transitions never overwrite
 * each other.
 */
export interface BreakerStore extends VersionedStore<BreakerState> {
  /**
   * Hear every change any replica makes, at once, so a cached state can be dropped (the breaker
   * service otherwise re-reads after its cache period). Only shared backends offer it.
   */
  subscribe?(listener: BreakerChangeListener): () => void;
}
