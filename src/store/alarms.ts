import type { VersionedRecord, VersionedStore } from './versioned.ts';

/** CloudWatch alarm states. Every alarm starts in INSUFFICIENT_DATA. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** What the alarm engine keeps of one alarm across restarts (and, later, across replicas). */
export interface AlarmSnapshot {
  state: AlarmState;
  /** When it entered `state`, epoch ms. */
  since: number;
  reason: string;
  /** Breaker scopes this alarm's ALARM actions opened, and kill scopes it set (undone by closeOnOk). */
  opened: string[];
  killed: string[];
}

/** An alarm's state as stored, keyed by the alarm's name (`scope`). */
export type AlarmRecord = VersionedRecord<AlarmSnapshot>;

/** Alarm state by alarm name, with compare-and-set on the version (one transition wins per version). */
export type AlarmStateStore = VersionedStore<AlarmSnapshot>;
