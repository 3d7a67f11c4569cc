/**
 * Retry budget per scope over a sliding window, so retries cannot turn an outage into a storm
 * (the idea behind Finagle's and Envoy's retry budgets). Pure: callers pass `now` (epoch ms).
 *
 * Within the window, retries granted <= max(minRetries, floor(ratio * calls)). Defaults: ratio 0.2
 * (retries add at most 20 % to the load), window 10 s, minRetries 3. The floor is a maximum, not an
 * addition: a caller with little traffic can still retry a few times per window, and a busy one is
 * held to the ratio exactly.
 *
 * The window is a ring of `buckets` counters (default 10 × 1 s), so each operation is O(buckets) at
 * worst and memory per scope is fixed; the window's effective length is between
 * (buckets - 1) and buckets bucket-lengths. At most `maxScopes` scopes are kept: the one touched
 * least recently is dropped first (if it comes back, it starts with an empty window: at worst it
 * regains its floor of retries).
 */

export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of calls in the window. Default 0.2. */
  ratio?: number;
  /** Window length in ms. Default 10000. */
  windowMs?: number;
  /** Number of buckets in the window. Default 10. */
  buckets?: number;
  /** Retries allowed per window whatever the traffic. Default 3. */
  minRetries?: number;
  /** Most scopes tracked at once; least recently used evicted. Default 10000. */
  maxScopes?: number;
}

export interface RetryBudgetStats {
  calls: number;
  retries: number;
  /** Retries the window allows in total right now. */
  allowance: number;
}

interface ScopeWindow {
  calls: number[];
  retries: number[];
  /** Absolute index (floor(now / bucketMs)) of the newest bucket. */
  head: number;
  totalCalls: number;
  totalRetries: number;
}

export class RetryBudget {
  readonly ratio: number;
  readonly windowMs: number;
  readonly buckets: number;
  readonly minRetries: number;
  readonly maxScopes: number;
  private readonly bucketMs: number;
  private readonly scopes = new Map<string, ScopeWindow>();

  constructor({ ratio = 0.2, windowMs = 10_000, buckets = 10, minRetries = 3, maxScopes = 10_000 }: RetryBudgetOptions = {}) {
    if (!(Number.isFinite(ratio) && ratio >= 0)) throw new TypeError('retryBudget.ratio: expected a number >= 0');
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new TypeError('retryBudget.windowMs: expected a positive number');
    if (!(Number.isInteger(buckets) && buckets >= 1)) throw new TypeError('retryBudget.buckets: expected a positive integer');
    if (!(Number.isInteger(minRetries) && minRetries >= 0)) throw new TypeError('retryBudget.minRetries: expected an integer >= 0');
    if (!(Number.isInteger(maxScopes) && maxScopes >= 1)) throw new TypeError('retryBudget.maxScopes: expected a positive integer');
    this.ratio = ratio;
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.minRetries = minRetries;
    this.maxScopes = maxScopes;
    this.bucketMs = windowMs / buckets;
  }

  /** Count one original call (not a retry) in `scope`. */
  recordCall(scope: string, now: number): void {
    const w = this.window(scope, now);
    w.calls[this.slot(w.head)]++;
    w.totalCalls++;
  }

  /** Whether one more retry fits the budget; if it does, it is recorded. */
  tryRetry(scope: string, now: number): boolean {
    const w = this.window(scope, now);
    if (w.totalRetries + 1 > this.allowance(w.totalCalls)) return false;
    w.retries[this.slot(w.head)]++;
    w.totalRetries++;
    return true;
  }

  stats(scope: string, now: number): RetryBudgetStats {
    const w = this.scopes.get(scope);
    if (!w) return { calls: 0, retries: 0, allowance: this.allowance(0) };
    this.rotate(w, now);
    return { calls: w.totalCalls, retries: w.totalRetries, allowance: this.allowance(w.totalCalls) };
  }

  /** Scopes currently tracked. */
  get size(): number {
    return this.scopes.size;
  }

  private allowance(calls: number): number {
    // The epsilon keeps 0.2 * 100 (= 20.000000000000004 or 19.999…) from flipping the floor.
    return Math.max(this.minRetries, Math.floor(this.ratio * calls + 1e-9));
  }

  private slot(index: number): number {
    return ((index % this.buckets) + this.buckets) % this.buckets;
  }

  private window(scope: string, now: number): ScopeWindow {
    let w = this.scopes.get(scope);
    if (w) {
      // Re-insert so Map order is least-recently-used first.
      this.scopes.delete(scope);
      this.rotate(w, now);
    } else {
      w = {
        calls: new Array<number>(this.buckets).fill(0),
        retries: new Array<number>(this.buckets).fill(0),
        head: Math.floor(now / this.bucketMs),
        totalCalls: 0,
        totalRetries: 0,
      };
      if (this.scopes.size >= this.maxScopes) {
        const oldest = this.scopes.keys().next();
        if (!oldest.done) this.scopes.delete(oldest.value);
      }
    }
    this.scopes.set(scope, w);
    return w;
  }

  /** Move the head to `now`'s bucket, clearing the buckets that fell out of the window. */
  private rotate(w: ScopeWindow, now: number): void {
    const index = Math.floor(now / this.bucketMs);
    // A clock that steps back keeps counting in the newest bucket rather than corrupting the ring.
    if (index <= w.head) return;
    const steps = Math.min(index - w.head, this.buckets);
    for (let k = 1; k <= steps; k++) {
      const s = this.slot(w.head + k);
      w.totalCalls -= w.calls[s];
      w.totalRetries -= w.retries[s];
      w.calls[s] = 0;
      w.retries[s] = 0;
    }
    w.head = index;
  }
}
