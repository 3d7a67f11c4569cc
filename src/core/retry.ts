/**
 * Retry policy with Step Functions `Retry` semantics (reference/aws-semantics.md §1), over fmguard stop
 * codes instead of `States.*` names. Pure: randomness is injected, time is passed in as numbers.
 *
 * Matching: retriers are scanned in order and the first whose `errorEquals` matches the code is used.
 * An entry is one of
 * - a stop code (`'upstream.error'`, `'timeout.first_token'`, …);
 * - a family wildcard (`'timeout.*'`): every code of that family that a retry can help;
 * - `'all'` (the analogue of `States.ALL`): alone, and only in the last retrier.
 *
 * Codes whose catalogue hint is `'no'` (limits, loops, policy, kill switch, auth, invalid requests,
 * budgets) are never retried — the analogue of `States.Runtime` escaping `States.ALL`. Naming one in
 * `errorEquals` is a validation error, so a config can't pretend otherwise. `'after-approval'` codes
 * (`approval.required`, `approval.expired`) are retried only when named explicitly or through their
 * family wildcard: `'all'` skips them because backing off blindly doesn't bring a human's approval.
 *
 * Delay of retry n (1..maxAttempts) of a retrier:
 *   base = intervalMs * backoffRate^(n-1); capped = min(base, maxDelayMs?); full jitter = capped * random().
 * A retrier's counter persists across all its uses within one guarded call (vector S5).
 */
import { ALL_STOP_CODES, STOP_CODES, isStopCode, type StopCode } from './codes.ts';
import { ALL, checkErrorEquals, familyOf, type ErrorEqualsRules } from './error-equals.ts';

export type RetryJitter = 'full' | 'none';

/** One retrier, as written in configuration. */
export interface Retrier {
  /** Stop codes, family wildcards (`'timeout.*'`) or `'all'` (alone, in the last retrier). */
  errorEquals: readonly string[];
  /** Delay before the first retry. Default 1000. */
  intervalMs?: number;
  /** Multiplier per retry, >= 1. Default 2. */
  backoffRate?: number;
  /** Maximum number of retries (not attempts) this retrier grants per call; 0 = never. Default 3. */
  maxAttempts?: number;
  /** Upper bound on the delay before jitter. Default: none. */
  maxDelayMs?: number;
  /** `'full'`: uniform(0, delay). Default `'none'`. */
  jitter?: RetryJitter;
}

/** A retrier with its defaults filled in. */
export interface CompiledRetrier {
  readonly errorEquals: readonly string[];
  readonly intervalMs: number;
  readonly backoffRate: number;
  readonly maxAttempts: number;
  readonly maxDelayMs: number | undefined;
  readonly jitter: RetryJitter;
}

export interface RetryProblem {
  path: string;
  message: string;
}

export const RETRY_DEFAULTS = {
  intervalMs: 1000,
  backoffRate: 2,
  maxAttempts: 3,
  jitter: 'none',
  maxRetryAfterMs: 30_000,
} as const;

/** Same bounds as Step Functions' MaxAttempts (99999999). */
const MAX_ATTEMPTS_LIMIT = 99_999_999;
/** Timers can't wait longer than 2^31-1 ms (Node fires them after 1 ms instead), so no delay exceeds it. */
export const MAX_RETRY_DELAY_MS = 2_147_483_647;

const RETRIER_KEYS = new Set(['errorEquals', 'intervalMs', 'backoffRate', 'maxAttempts', 'maxDelayMs', 'jitter']);
const FAMILIES = new Set(ALL_STOP_CODES.map(familyOf));

/** Whether the catalogue allows retrying `code` at all. */
export function isRetryableCode(code: StopCode): boolean {
  return STOP_CODES[code].retry !== 'no';
}

/** Whether one `errorEquals` entry matches `code` (assumes the entry is valid). */
export function entryMatches(entry: string, code: StopCode): boolean {
  if (!isRetryableCode(code)) return false;
  if (entry === ALL) return STOP_CODES[code].retry !== 'after-approval';
  if (entry.endsWith('.*')) return familyOf(code) === entry.slice(0, -2);
  return entry === code;
}

/** What a retrier's `errorEquals` may name: codes a retry can help, and families with one. */
const RETRIER_EQUALS: ErrorEqualsRules = {
  owner: 'retrier',
  family(e, fam) {
    if (!FAMILIES.has(fam)) return `unknown code family '${fam}' (known: ${[...FAMILIES].join(', ')})`;
    if (!ALL_STOP_CODES.some((c) => familyOf(c) === fam && isRetryableCode(c))) return `'${e}' matches no retryable code: ${fam}.* stops are never retried`;
    return undefined;
  },
  code: (e) => (isRetryableCode(e) ? undefined : `'${e}' is never retried (a hard stop; retrying cannot help)`),
};

function isPositiveFinite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/**
 * Every problem in a list of retriers, each naming its path (`retry[1].errorEquals`), for the config
 * loader to report. An empty list means the retriers compile.
 */
export function validateRetriers(retriers: unknown, path = 'retry'): RetryProblem[] {
  const problems: RetryProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  if (!Array.isArray(retriers)) {
    add(path, 'expected a list of retriers');
    return problems;
  }
  retriers.forEach((r: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      add(at, 'expected an object with errorEquals');
      return;
    }
    const o = r as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!RETRIER_KEYS.has(key)) add(`${at}.${key}`, `unknown field (expected one of ${[...RETRIER_KEYS].join(', ')})`);
    }
    checkErrorEquals(o.errorEquals, at, i === retriers.length - 1, RETRIER_EQUALS, add);
    if (o.intervalMs !== undefined && !isPositiveFinite(o.intervalMs)) {
      add(`${at}.intervalMs`, 'expected a positive number of milliseconds');
    }
    if (o.backoffRate !== undefined && !(typeof o.backoffRate === 'number' && Number.isFinite(o.backoffRate) && o.backoffRate >= 1)) {
      add(`${at}.backoffRate`, 'expected a number >= 1');
    }
    if (
      o.maxAttempts !== undefined &&
      !(Number.isInteger(o.maxAttempts) && (o.maxAttempts as number) >= 0 && (o.maxAttempts as number) <= MAX_ATTEMPTS_LIMIT)
    ) {
      add(`${at}.maxAttempts`, `expected an integer from 0 to ${MAX_ATTEMPTS_LIMIT}`);
    }
    if (o.maxDelayMs !== undefined && !isPositiveFinite(o.maxDelayMs)) {
      add(`${at}.maxDelayMs`, 'expected a positive number of milliseconds');
    }
    if (o.jitter !== undefined && o.jitter !== 'full' && o.jitter !== 'none') {
      add(`${at}.jitter`, "expected 'full' or 'none'");
    }
  });
  return problems;
}

/** Thrown by `compileRetryPolicy` for invalid retriers; `problems` lists each one with its path. */
export class RetryConfigError extends TypeError {
  readonly problems: readonly RetryProblem[];
  constructor(problems: readonly RetryProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.name = 'RetryConfigError';
    this.problems = problems;
  }
}

/** Delay before retry `n` (1-based) of `retrier`, before any retry-after. `random` is drawn only for full jitter. */
export function retryDelayMs(retrier: CompiledRetrier, n: number, random: () => number = Math.random): number {
  const base = retrier.intervalMs * retrier.backoffRate ** (n - 1);
  const capped = Math.min(retrier.maxDelayMs === undefined ? base : Math.min(base, retrier.maxDelayMs), MAX_RETRY_DELAY_MS);
  return retrier.jitter === 'full' ? capped * random() : capped;
}

export type RetryDecision =
  | {
      retry: true;
      delayMs: number;
      /** Index of the retrier used. */
      retrier: number;
      /** This retrier's retry count, including this one (1..maxAttempts). */
      attempt: number;
    }
  | { retry: false; reason: 'non-retryable' | 'no-match' }
  | { retry: false; reason: 'exhausted'; retrier: number; attempt: number }
  | { retry: false; reason: 'no-time'; retrier: number; attempt: number; delayMs: number };

export type RetryStopReason = Extract<RetryDecision, { retry: false }>['reason'];

export interface NextOptions {
  /** The provider's retry-after hint; the delay is at least min(this, maxRetryAfterMs). */
  retryAfterMs?: number;
  /** Time left before the call's deadline; a delay that does not fit stops the retries. */
  timeLeftMs?: number;
}

/** Per-call state: how many retries each retrier has granted. Plain data (`attempts`), so it can be persisted. */
export interface RetryState {
  next(code: StopCode, options?: NextOptions): RetryDecision;
  /** Retries granted so far, per retrier index. */
  readonly attempts: readonly number[];
}

export interface RetryPolicy {
  readonly retriers: readonly CompiledRetrier[];
  /** Index of the first retrier matching `code`, or undefined. */
  match(code: StopCode): number | undefined;
  /** State for one guarded call; pass `attempts` to resume a saved state. */
  start(attempts?: readonly number[]): RetryState;
}

export interface RetryPolicyOptions {
  /** Uniform [0, 1) source for full jitter. Default Math.random. */
  random?: () => number;
  /** Longest retry-after honoured (a provider asking for more gets this). Default 30000. */
  maxRetryAfterMs?: number;
}

/** Validate and compile retriers; throws `RetryConfigError` listing every problem. */
export function compileRetryPolicy(retriers: readonly Retrier[], options: RetryPolicyOptions = {}): RetryPolicy {
  const { random = Math.random, maxRetryAfterMs = RETRY_DEFAULTS.maxRetryAfterMs } = options;
  const problems = validateRetriers(retriers);
  if (!(typeof maxRetryAfterMs === 'number' && maxRetryAfterMs >= 0)) {
    problems.push({ path: 'maxRetryAfterMs', message: 'expected a number >= 0' });
  }
  if (problems.length > 0) throw new RetryConfigError(problems);

  const compiled: CompiledRetrier[] = retriers.map((r) =>
    Object.freeze({
      errorEquals: Object.freeze([...r.errorEquals]),
      intervalMs: r.intervalMs ?? RETRY_DEFAULTS.intervalMs,
      backoffRate: r.backoffRate ?? RETRY_DEFAULTS.backoffRate,
      maxAttempts: r.maxAttempts ?? RETRY_DEFAULTS.maxAttempts,
      maxDelayMs: r.maxDelayMs,
      jitter: r.jitter ?? RETRY_DEFAULTS.jitter,
    }),
  );

  const match = (code: StopCode): number | undefined => {
    const i = compiled.findIndex((r) => r.errorEquals.some((e) => entryMatches(e, code)));
    return i < 0 ? undefined : i;
  };

  const start = (initial?: readonly number[]): RetryState => {
    const attempts = compiled.map((_, i) => initial?.[i] ?? 0);
    return {
      get attempts() {
        return [...attempts];
      },
      next(code, { retryAfterMs, timeLeftMs } = {}) {
        if (!isStopCode(code)) return { retry: false, reason: 'no-match' };
        if (!isRetryableCode(code)) return { retry: false, reason: 'non-retryable' };
        const i = match(code);
        if (i === undefined) return { retry: false, reason: 'no-match' };
        const r = compiled[i];
        const n = attempts[i] + 1;
        if (n > r.maxAttempts) return { retry: false, reason: 'exhausted', retrier: i, attempt: attempts[i] };
        let delayMs = retryDelayMs(r, n, random);
        if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
          // Capped like the backoff: a longer timer would fire at once (maxRetryAfterMs may be days).
          delayMs = Math.min(Math.max(delayMs, Math.min(retryAfterMs, maxRetryAfterMs)), MAX_RETRY_DELAY_MS);
        }
        // The attempt after the wait needs some time of its own; a wait that uses it all is pointless.
        if (timeLeftMs !== undefined && delayMs >= timeLeftMs) {
          return { retry: false, reason: 'no-time', retrier: i, attempt: n, delayMs };
        }
        attempts[i] = n;
        return { retry: true, delayMs, retrier: i, attempt: n };
      },
    };
  };

  return { retriers: compiled, match, start };
}
