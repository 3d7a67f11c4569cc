/**
 * Retrier configuration at its bounds (src/core/retry.ts, reference/aws-semantics.md §1 retrier
 * fields): what each field accepts and refuses, the messages the config loader shows, the
 * `maxRetryAfterMs` option, and which retry-after hints are honoured.
 */
import { describe, expect, it } from 'vitest';
import { ALL_STOP_CODES } from '../../src/core/codes.ts';
import { MAX_RETRY_DELAY_MS, RetryConfigError, compileRetryPolicy, validateRetriers } from '../../src/core/retry.ts';

const E = 'upstream.error';
const problemsOf = (retrier: Record<string, unknown>) => validateRetriers([{ errorEquals: [E], ...retrier }]);

describe('retrier fields', () => {
  it.each([
    { field: 'intervalMs', bad: [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '1000'], good: [1, 0.5, 1000] },
    { field: 'maxDelayMs', bad: [0, -1, Number.POSITIVE_INFINITY, '5000'], good: [1, 5000] },
    { field: 'backoffRate', bad: [0.99, 0, Number.POSITIVE_INFINITY, Number.NaN, '2'], good: [1, 1.5, 2] },
    { field: 'maxAttempts', bad: [-1, 1.5, 100_000_000, Number.POSITIVE_INFINITY, '3'], good: [0, 1, 99_999_999] },
    { field: 'jitter', bad: ['FULL', 'None', '', true], good: ['full', 'none'] },
  ])('$field: refuses $bad, accepts $good', ({ field, bad, good }) => {
    for (const v of bad) {
      const paths = problemsOf({ [field]: v }).map((p) => p.path);
      expect(paths, `${field} = ${String(v)}`).toEqual([`retry[0].${field}`]);
    }
    for (const v of good) expect(problemsOf({ [field]: v }), `${field} = ${String(v)}`).toEqual([]);
  });

  it('says what each field expects', () => {
    expect(problemsOf({ intervalMs: 0, backoffRate: 0.5, maxAttempts: -1, maxDelayMs: 0, jitter: 'x' })).toEqual([
      { path: 'retry[0].intervalMs', message: 'expected a positive number of milliseconds' },
      { path: 'retry[0].backoffRate', message: 'expected a number >= 1' },
      { path: 'retry[0].maxAttempts', message: 'expected an integer from 0 to 99999999' },
      { path: 'retry[0].maxDelayMs', message: 'expected a positive number of milliseconds' },
      { path: 'retry[0].jitter', message: "expected 'full' or 'none'" },
    ]);
  });

  it('names an unknown field and lists the known ones', () => {
    expect(problemsOf({ interval: 5 })).toEqual([
      { path: 'retry[0].interval', message: 'unknown field (expected one of errorEquals, intervalMs, backoffRate, maxAttempts, maxDelayMs, jitter)' },
    ]);
  });

  it('a retrier that is null is one problem, not a crash', () => {
    expect(validateRetriers([null])).toEqual([{ path: 'retry[0]', message: 'expected an object with errorEquals' }]);
  });

  it('an unknown family lists the known families', () => {
    const families = [...new Set(ALL_STOP_CODES.map((c) => c.slice(0, c.indexOf('.'))))].join(', ');
    expect(families).toContain('limit, loop, ');
    expect(validateRetriers([{ errorEquals: ['network.*'] }])).toEqual([
      { path: 'retry[0].errorEquals[0]', message: `unknown code family 'network' (known: ${families})` },
    ]);
  });

  it('a retrier with jitter none and every bound at its limit compiles and backs off as written', () => {
    const policy = compileRetryPolicy([{ errorEquals: [E], intervalMs: 500, backoffRate: 1, maxAttempts: 99_999_999, jitter: 'none' }]);
    const state = policy.start();
    expect([state.next(E), state.next(E)]).toEqual([
      { retry: true, delayMs: 500, retrier: 0, attempt: 1 },
      { retry: true, delayMs: 500, retrier: 0, attempt: 2 },
    ]);
  });
});

describe('RetryConfigError', () => {
  it('is named, and its message lists every problem as path: message, separated by "; "', () => {
    let error: unknown;
    try {
      compileRetryPolicy([
        { errorEquals: [E], intervalMs: 0 },
        { errorEquals: ['all'], jitter: 'FULL' as 'full' },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RetryConfigError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).name).toBe('RetryConfigError');
    expect((error as Error).message).toBe("retry[0].intervalMs: expected a positive number of milliseconds; retry[1].jitter: expected 'full' or 'none'");
  });
});

describe('maxRetryAfterMs', () => {
  it.each([-1, Number.NaN, '30000', null])('refuses %s', (maxRetryAfterMs) => {
    expect(() => compileRetryPolicy([{ errorEquals: [E] }], { maxRetryAfterMs: maxRetryAfterMs as number })).toThrow(RetryConfigError);
    try {
      compileRetryPolicy([{ errorEquals: [E] }], { maxRetryAfterMs: maxRetryAfterMs as number });
    } catch (err) {
      expect((err as RetryConfigError).problems).toEqual([{ path: 'maxRetryAfterMs', message: 'expected a number >= 0' }]);
    }
  });

  it('0 is allowed and means retry-after hints are never waited for beyond the backoff', () => {
    const state = compileRetryPolicy([{ errorEquals: ['rate.limited'], intervalMs: 1000 }], { maxRetryAfterMs: 0 }).start();
    expect(state.next('rate.limited', { retryAfterMs: 60_000 })).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
  });
});

describe('retry-after hints', () => {
  const next = (options?: { retryAfterMs?: number; timeLeftMs?: number }) =>
    compileRetryPolicy([{ errorEquals: ['rate.limited'], intervalMs: 1000 }])
      .start()
      .next('rate.limited', options);

  it('a non-finite hint is ignored like a missing one', () => {
    expect(next({ retryAfterMs: Number.POSITIVE_INFINITY })).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
    expect(next({ retryAfterMs: Number.NEGATIVE_INFINITY })).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
    expect(next()).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
    expect(next({ timeLeftMs: 5000 })).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
  });

  it('a finite hint longer than the backoff is waited for', () => {
    expect(next({ retryAfterMs: 2500 })).toEqual({ retry: true, delayMs: 2500, retrier: 0, attempt: 1 });
  });
});

describe('retry-after beyond what a timer can wait', () => {
  it('is capped at MAX_RETRY_DELAY_MS, like a long backoff (a longer Node timer fires after 1 ms)', () => {
    // maxRetryAfterMs comes from config as a duration and may be days; the provider may ask for more.
    const days = 40 * 24 * 3600 * 1000;
    const state = compileRetryPolicy([{ errorEquals: ['rate.limited'] }], { maxRetryAfterMs: days }).start();
    expect(state.next('rate.limited', { retryAfterMs: days })).toEqual({ retry: true, delayMs: MAX_RETRY_DELAY_MS, retrier: 0, attempt: 1 });
    expect(state.next('rate.limited', { retryAfterMs: 5 * 24 * 3600 * 1000 })).toEqual({ retry: true, delayMs: 5 * 24 * 3600 * 1000, retrier: 0, attempt: 2 });
  });
});
