import type { BreakerState } from '../../breakers/state.ts';
import type { BreakerRecord, BreakerStore } from '../../store/breakers.ts';

const copy = (record: BreakerRecord): BreakerRecord => ({ ...record, state: structuredClone(record.state) });

/** Breaker state in process memory. Records are copied in and out, as a shared store would. */
export function createMemoryBreakerStore(): BreakerStore {
  const records = new Map<string, BreakerRecord>();
  return {
    kind: 'memory',
    async get(scope) {
      const record = records.get(scope);
      return record && copy(record);
    },
    async compareAndSet(scope, expectedVersion, state: BreakerState) {
      const current = records.get(scope);
      if ((current?.version ?? 0) !== expectedVersion) return { ok: false, current: current && copy(current) };
      const record: BreakerRecord = { scope, state: structuredClone(state), version: expectedVersion + 1 };
      records.set(scope, record);
      return { ok: true, record: copy(record) };
    },
    async delete(scope) {
      records.delete(scope);
    },
    async list() {
      return [...records.values()].map(copy).sort((a, b) => a.scope.localeCompare(b.scope));
    },
  };
}
