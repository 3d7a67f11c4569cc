import type { AlarmStateStore } from '../../store/alarms.ts';
import type { BreakerChangeListener, BreakerState, BreakerStore } from '../../store/breakers.ts';
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

/**
 * Breaker state in process memory. Every guard sharing this store object (replicas in one process)
 * hears each change at once, in process.
 */
export function createMemoryBreakerStore(): BreakerStore {
  const base = createMemoryVersionedStore<BreakerState>();
  const listeners = new Set<BreakerChangeListener>();
  const announce = (scope: string, version: number | undefined) => {
    for (const listener of [...listeners]) {
      try {
        listener(scope, version);
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  return {
    ...base,
    async compareAndSet(scope: string, expectedVersion: number, state: BreakerState) {
      const result = await base.compareAndSet(scope, expectedVersion, state);
      if (result.ok) announce(scope, result.record.version);
      return result;
    },
    async delete(scope: string) {
      const had = (await base.get(scope)) !== undefined;
      await base.delete(scope);
      if (had) announce(scope, undefined);
    },
    subscribe(listener: BreakerChangeListener) {
      const entry: BreakerChangeListener = (scope, version) => listener(scope, version);
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
  };
}

/** Alarm state in process memory. */
export function createMemoryAlarmStore(): AlarmStateStore {
  return createMemoryVersionedStore();
}
