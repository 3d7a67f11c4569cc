/**
 * The rules every store applies the same way: input checks, the ledger's fit test and the token
 * bucket decision. Pure; the memory store uses them directly, SQLite and Redis around their
 * own reads and writes, so all stores refuse and report identically.
 */
import { refill, type BucketState } from '../core/token-bucket.ts';
import type { BucketSpec, Charge, ChargeRefusal, KillInfo, KillListener, KillScope, RateResult, RunPruneRequest } from '../store/store.ts';

/** How long an expired reservation is remembered, so a late settle still finds its charges. */
export const EXPIRED_RETENTION_MS = 60 * 60 * 1000;

export const OK = Object.freeze({ ok: true as const });
export const SETTLE_UNKNOWN = Object.freeze({ ok: false as const, reason: 'unknown' as const });

function isAmount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** Amounts are non-negative safe integers; anything else is a caller bug, not a refusal. */
export function checkCharges(charges: readonly Charge[]): void {
  for (let i = 0; i < charges.length; i++) {
    const c = charges[i];
    if (!isAmount(c.amount)) throw new TypeError(`charges[${i}].amount must be a non-negative safe integer, got ${c.amount}`);
  }
}

export function checkActual(actual: readonly number[], lines: number): void {
  if (actual.length !== lines) throw new TypeError(`settle: expected ${lines} actual amounts, got ${actual.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!isAmount(actual[i])) throw new TypeError(`settle: actual[${i}] must be a non-negative safe integer, got ${actual[i]}`);
  }
}

/** An adjustment is a safe integer (negative credits); anything else is a caller bug. */
export function checkDelta(delta: number): void {
  if (!Number.isSafeInteger(delta)) throw new TypeError(`adjust: delta must be a safe integer, got ${delta}`);
}

/** Amount already asked of the same (key, dim) by earlier lines of one request. Requests are short. */
export function pendingBefore(charges: readonly Charge[], i: number): number {
  const { key, dim } = charges[i];
  let sum = 0;
  for (let j = 0; j < i; j++) {
    const c = charges[j];
    if (c.key === key && c.dim === dim) sum += c.amount;
  }
  return sum;
}

/** Whether `need` more fits under `limit`. A NaN limit never fits (fail closed). */
export function fits(limit: number, used: number, reserved: number, need: number): boolean {
  return used + reserved + need <= limit;
}

/** `requested` is this line's amount plus what earlier lines of the request put on the same account. */
export function refusalOf(c: Charge, used: number, reserved: number, need: number): ChargeRefusal {
  return { key: c.key, dim: c.dim, code: c.code, limit: c.limit as number, used, reserved, requested: need };
}

// ---------------------------------------------------------------------------------------------
// Token buckets.

// Refill is float arithmetic; a bucket that holds enough up to rounding must count as holding enough.
function slack(capacity: number): number {
  return Math.max(1e-9, capacity * 1e-12);
}

/**
 * Whole ms until `need` tokens are there. Computed like core waitFor, but the float noise of the
 * refill (4000.0000001 for an exact 4000) must not add a ms, and the answer must agree with the
 * check a retry at now + wait will make. More than the bucket can hold reports `windowMs`: finite,
 * so it survives JSON.
 */
function waitMs(tokens: number, need: number, b: BucketSpec): number {
  if (need > b.capacity) return b.windowMs;
  let wait = Math.max(1, Math.ceil(((need - tokens) * b.windowMs) / b.capacity - 1e-6));
  if (tokens + (wait * b.capacity) / b.windowMs + slack(b.capacity) < need) wait++;
  return wait;
}

function checkBucket(b: BucketSpec): void {
  if (!(b.capacity > 0) || !(b.windowMs > 0) || !(b.amount >= 0) || !Number.isFinite(b.capacity + b.windowMs + b.amount)) {
    throw new TypeError(`bucket ${b.key}: capacity and windowMs must be positive and amount non-negative`);
  }
}

function amountBefore(buckets: readonly BucketSpec[], i: number): number {
  const key = buckets[i].key;
  let sum = 0;
  for (let j = 0; j < i; j++) if (buckets[j].key === key) sum += buckets[j].amount;
  return sum;
}

/**
 * Take from every bucket in `states` (missing = full), all or nothing. On success the states are
 * refilled and debited; on refusal they are only refilled (which changes nothing observable). The
 * refusal names the bucket with the longest wait, since retrying sooner would fail on it anyway.
 */
export function takeFrom(states: Map<string, BucketState>, buckets: readonly BucketSpec[], now: number): RateResult {
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    checkBucket(b);
    states.set(b.key, refill(states.get(b.key), b.capacity, b.windowMs, now));
  }
  let worst = -1;
  let worstWait = 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    const state = states.get(b.key) as BucketState;
    const need = b.amount + amountBefore(buckets, i);
    if (state.tokens + slack(b.capacity) >= need) continue;
    const wait = waitMs(state.tokens, need, b);
    if (wait > worstWait) {
      worst = i;
      worstWait = wait;
    }
  }
  if (worst >= 0) {
    const b = buckets[worst];
    return { ok: false, scope: b.scope, key: b.key, retryAfterMs: worstWait };
  }
  for (let i = 0; i < buckets.length; i++) {
    const state = states.get(buckets[i].key) as BucketState;
    state.tokens = Math.max(0, state.tokens - buckets[i].amount);
  }
  return OK;
}

/** Give tokens back, never above capacity. */
export function creditTo(states: Map<string, BucketState>, buckets: readonly BucketSpec[], now: number): void {
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    checkBucket(b);
    const state = refill(states.get(b.key), b.capacity, b.windowMs, now);
    state.tokens = Math.min(b.capacity, state.tokens + b.amount);
    states.set(b.key, state);
  }
}

// ---------------------------------------------------------------------------------------------
// Kill switches.

export function copyKill(info: KillInfo): KillInfo {
  return { reason: info.reason, by: info.by, at: info.at };
}

export function sameKill(a: KillInfo, b: KillInfo): boolean {
  return a.reason === b.reason && a.by === b.by && a.at === b.at;
}

/**
 * Call every listener with its own copy. A throwing listener must neither stop the others nor fail
 * the write that already happened, so its error is dropped.
 */
export function notifyKill(listeners: ReadonlySet<KillListener>, scope: KillScope, info: KillInfo | null): void {
  if (listeners.size === 0) return;
  for (const listener of Array.from(listeners)) {
    try {
      listener(scope, info && copyKill(info));
    } catch {
      // see above
    }
  }
}

/**
 * A run prune request as every store reads it: runs ended before `rollBefore` have their detail
 * rolled (`-Infinity`: none), and `deleteBefore` implies it, since a record goes only once its detail
 * is rolled; at most `limit` runs rolled and `limit` deleted per call (default 1000).
 */
export function pruneBounds(req: RunPruneRequest): { rollBefore: number; limit: number } {
  return { rollBefore: Math.max(req.rollBefore ?? -Infinity, req.deleteBefore ?? -Infinity), limit: req.limit ?? 1000 };
}
