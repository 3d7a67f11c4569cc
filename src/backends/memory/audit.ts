import { chainEvent } from '../../audit/chain.ts';
import { checkpointOf, planCut } from '../../audit/cut.ts';
import type { AuditCheckpoint, AuditEvent, AuditFilter, StoredEvent } from '../../store/audit.ts';
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
  let checkpoint: AuditCheckpoint | undefined;
  const last = () => {
    const event = events[events.length - 1];
    return event ? { seq: event.seq, hash: event.hash } : checkpoint && { seq: checkpoint.seq, hash: checkpoint.hash };
  };
  const appendOne = (event: AuditEvent) => {
    const stored = chainEvent(event, last());
    // Keep a private copy so callers cannot mutate what was hashed.
    events.push(structuredClone(stored));
    return stored;
  };
  return {
    kind: 'memory',
    events,
    async append(event: AuditEvent) {
      return appendOne(event);
    },
    async appendBatch(batch) {
      return batch.map(appendOne);
    },
    async writerSeq(writer) {
      for (let i = events.length - 1; i >= 0; i--) if (events[i]!.writer === writer) return events[i]!.wseq ?? 0;
      return checkpoint?.writers[writer] ?? 0;
    },
    async head() {
      return { chain: '', head: last() };
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
        { ...options, checkpoint },
      );
    },
    async prune({ before, now, sign }) {
      const plan = planCut(events, before, checkpoint);
      if (!plan) return [];
      const unsigned = checkpointOf('', plan, now);
      checkpoint = { ...unsigned, sig: sign(unsigned) };
      events.splice(0, plan.pruned);
      return [{ pruned: plan.pruned, checkpoint }];
    },
    async checkpoints() {
      return checkpoint ? [checkpoint] : [];
    },
    async close() {},
  };
}
