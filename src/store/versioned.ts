/**
 * A record kept under a key with a version that every write increments: the shape breaker state and
 * alarm state share. Writes are compare-and-set on the version, so concurrent transitions made by
 * several replicas never overwrite each other.
 */
export interface VersionedRecord<S> {
  /** The record's key: a breaker scope (`provider:sim`) or an alarm name. */
  scope: string;
  state: S;
  version: number;
}

export type CasResult<S> = { ok: true; record: VersionedRecord<S> } | { ok: false; current: VersionedRecord<S> | undefined };

export interface VersionedStore<S> {
  readonly kind: string;
  get(scope: string): Promise<VersionedRecord<S> | undefined>;
  /**
   * Store `state` if the stored version is `expectedVersion` (0 = no record yet). On success the
   * record has version expectedVersion + 1; on conflict `current` is what is stored now.
   */
  compareAndSet(scope: string, expectedVersion: number, state: S): Promise<CasResult<S>>;
  /** Forget a key (operator reset). */
  delete(scope: string): Promise<void>;
  /** Every record, by key. */
  list(): Promise<Array<VersionedRecord<S>>>;
}
