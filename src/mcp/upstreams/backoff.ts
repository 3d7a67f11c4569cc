/** How a lost or failing tool server is retried. */
export interface BackoffOptions {
  /** Delay before the second attempt in a row; doubles with each further failure. Default 200 ms. */
  baseMs?: number;
  /** The longest delay. Default 30 s. */
  maxMs?: number;
  /** A connection that lasted this long resets the failure count. Default 10 s. */
  stableMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 200, maxMs: 30_000, stableMs: 10_000 };

/**
 * Delay before attempt number `failures + 1`: the first failure retries at once (a single crash is
 * usually just that), then base, 2×base, 4×base … up to max.
 */
export function backoffDelay(failures: number, options: Required<BackoffOptions>): number {
  if (failures <= 1) return 0;
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(failures - 2, 30));
}
