import type { Gate } from './connection.ts';
import type { Keys } from './keys.ts';

/** What the approval, breaker and metric stores need of a Redis store (a RedisStore is one). */
export interface RedisHandle {
  /** The store's bounded command connection. */
  readonly gate: Gate;
  readonly keys: Keys;
}
