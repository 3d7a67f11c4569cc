import type { AuditEvent, AuditFilter, StoredEvent, VerifyOptions, VerifyResult } from './audit.ts';

/**
 * Where audit events go. Every sink numbers and chains events itself, so the chain is valid whoever
 * appends. Implementations: SQLite (default), JSON Lines, Postgres (replicas), memory (tests).
 */
export interface AuditSink {
  readonly kind: string;
  /** Number, chain and persist one event; resolves with it as stored. */
  append(event: AuditEvent): Promise<StoredEvent>;
  query(filter?: AuditFilter): Promise<StoredEvent[]>;
  /** The last `n` events, oldest first. */
  tail(n: number): Promise<StoredEvent[]>;
  /** Walk the whole chain; name the first event changed, removed, reordered or inserted. */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  close(): Promise<void>;
}

/** An audit sink a store backend keeps beside its state (see Store.audit). */
export interface AuditSinkFactory {
  /** The sink kind it opens (`sqlite`, `memory`). */
  readonly kind: string;
  /** Whether events outlive the process (the default audit log is on only for a durable one). */
  readonly durable: boolean;
  open(): AuditSink;
}
