import { chainEvent } from '../../audit/chain.ts';
import type { AuditEvent, AuditFilter, StoredEvent } from '../../store/audit.ts';
import { applyFilter } from '../../audit/filter.ts';
import type { AuditSink } from '../../store/audit-sink.ts';
import { verifyChain } from '../../audit/verify.ts';

export interface MemoryAuditSink extends AuditSink {
  /** The stored events, oldest first (tests may tamper with it). */
  readonly events: StoredEvent[];
}

/** An in-process sink for tests and for the SDK when no file is wanted. */
export function createMemoryAuditSink(): MemoryAuditSink {
  const events: StoredEvent[] = [];
  return {
    kind: 'memory',
    events,
    async append(event: AuditEvent) {
      const last = events[events.length - 1];
      const stored = chainEvent(event, last && { seq: last.seq, hash: last.hash });
      // Keep a private copy so callers cannot mutate what was hashed.
      events.push(structuredClone(stored));
      return stored;
    },
    async query(filter?: AuditFilter) {
      return structuredClone(applyFilter(events, filter));
    },
    async tail(n) {
      return structuredClone(n > 0 ? events.slice(-n) : []);
    },
    async verify(options) {
      return verifyChain(
        events.map((event) => ({ event })),
        options,
      );
    },
    async close() {},
  };
}
