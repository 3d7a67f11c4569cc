import type { AlarmStateStore } from '../../store/alarms.ts';
import type { BreakerStore } from '../../store/breakers.ts';
import type { VersionedRecord, VersionedStore } from '../../store/versioned.ts';

const copy = <S>(record: VersionedRecord<S>): VersionedRecord<S> => ({ ...record, state: structuredClone(record.state) });

/** Versioned records in process memory. Records are copied in and out, as a shared store would. */
export function createMemoryVersionedStore<S>(): VersionedStore<S> {
  const records = new Map<string, VersionedRecord<S>>();
  return {
    kind: 'memory',
    async get(scope) {
      const record = records.get(scope);
      return record && copy(record);
    },
    async compareAndSet(scope, expectedVersion, state) {
      const current = records.get(scope);
      if ((current?.version ?? 0) !== expectedVersion) return { ok: false, current: current && copy(current) };
      const record: VersionedRecord<S> = { scope, state: structuredClone(state), version: expectedVersion + 1 };
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

/** Breaker state in process memory. */
export function createMemoryBreakerStore(): BreakerStore {
  return createMemoryVersionedStore();
}

/** Alarm state in process memory. */
export function createMemoryAlarmStore(): AlarmStateStore {
  return createMemoryVersionedStore();
}
