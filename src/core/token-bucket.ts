/**
 * Token-bucket arithmetic, pure. A bucket holds up to `capacity` tokens and refills continuously at
 * `capacity / windowMs` per ms. Stores keep `{ tokens, updatedAt }` per key and call these.
 */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export function refill(state: BucketState | undefined, capacity: number, windowMs: number, now: number): BucketState {
  if (!state) return { tokens: capacity, updatedAt: now };
  const elapsed = Math.max(0, now - state.updatedAt);
  const tokens = Math.min(capacity, state.tokens + (elapsed * capacity) / windowMs);
  return { tokens, updatedAt: Math.max(now, state.updatedAt) };
}

/** Milliseconds until `amount` tokens are available (0 if they are now; Infinity if never). */
export function waitFor(state: BucketState, amount: number, capacity: number, windowMs: number): number {
  if (state.tokens >= amount) return 0;
  if (amount > capacity) return Infinity;
  return Math.ceil(((amount - state.tokens) * windowMs) / capacity);
}
