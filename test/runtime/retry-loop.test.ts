import { describe, expect, it } from 'vitest';
import type { StopCode } from '../../src/core/codes.ts';
import { GuardError, guardError } from '../../src/core/errors.ts';
import { RetryBudget } from '../../src/core/retry-budget.ts';
import { compileRetryPolicy, type Retrier } from '../../src/core/retry.ts';
import { retryOutcome, withRetries, type RetryInfo, type WithRetriesOptions } from '../../src/runtime/retry-loop.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const codeOf = (err: unknown): StopCode | undefined => (GuardError.isInstance(err) ? err.code : undefined);

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Harness<T> {
  clock: FakeClock;
  /** Attempt start times, relative to the start. */
  times: number[];
  /** Time left given to each attempt. */
  timeLeft: (number | undefined)[];
  retries: RetryInfo[];
  outcome: Outcome<T>;
}

/**
 * Run withRetries on a fake clock: attempt n throws `script[n-1]` (an error, or a code turned into a
 * GuardError) or returns it when it is `{ value }`. The clock is advanced far enough for every sleep.
 */
async function harness<T = string>(
  retriers: Retrier[],
  script: (StopCode | Error | { value: T })[],
  extra: Partial<WithRetriesOptions<T>> & { random?: () => number; advanceMs?: number } = {},
): Promise<Harness<T>> {
  const clock = new FakeClock();
  const start = clock.now();
  const times: number[] = [];
  const timeLeft: (number | undefined)[] = [];
  const retries: RetryInfo[] = [];
  const { random, advanceMs = 200_000, ...rest } = extra;
  const p = withRetries<T>({
    policy: compileRetryPolicy(retriers, { random }),
    scope: 'test',
    clock,
    codeOf,
    onRetry: (info) => retries.push(info),
    attempt: async (n, _signal, ctx) => {
      times.push(clock.now() - start);
      timeLeft.push(ctx.timeLeftMs);
      const step = script[n - 1];
      if (step === undefined) throw new Error(`script has no step ${n}`);
      if (typeof step === 'string') throw guardError(step, `attempt ${n}: ${step}`);
      if (step instanceof Error) throw step;
      return step.value;
    },
    ...rest,
  });
  const settled = p.then(
    (value): Outcome<T> => ({ ok: true, value }),
    (error: unknown): Outcome<T> => ({ ok: false, error }),
  );
  await clock.advance(advanceMs);
  return { clock, times, timeLeft, retries, outcome: await settled };
}

const E: StopCode = 'upstream.error';

describe('withRetries: Step Functions vectors on a fake clock', () => {
  const vectors: { id: string; retriers: Retrier[]; script: StopCode[]; times: number[]; reason: string }[] = [
    {
      id: 'S1: waits 3,6,12 then the 4th error fails',
      retriers: [{ errorEquals: [E], intervalMs: 3000, maxAttempts: 3, backoffRate: 2 }],
      script: [E, E, E, E],
      times: [0, 3000, 9000, 21000],
      reason: 'exhausted',
    },
    {
      id: 'S2: MaxDelay=5 → waits 3,5,5',
      retriers: [{ errorEquals: [E], intervalMs: 3000, maxAttempts: 3, backoffRate: 2, maxDelayMs: 5000 }],
      script: [E, E, E, E],
      times: [0, 3000, 8000, 13000],
      reason: 'exhausted',
    },
    {
      id: 'S5: A,B,C,B → waits 1,2,5 then R1 is exhausted',
      retriers: [
        { errorEquals: ['upstream.error', 'timeout.first_token'], intervalMs: 1000, backoffRate: 2, maxAttempts: 2 },
        { errorEquals: ['rate.limited'], intervalMs: 5000 },
      ],
      script: ['upstream.error', 'timeout.first_token', 'rate.limited', 'timeout.first_token'],
      times: [0, 1000, 3000, 8000],
      reason: 'exhausted',
    },
    {
      id: 'S6: a timeout with MA=0 is not retried',
      retriers: [{ errorEquals: ['timeout.total'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      script: ['timeout.total'],
      times: [0],
      reason: 'exhausted',
    },
    {
      id: 'S6: any other error waits 1,2,4',
      retriers: [{ errorEquals: ['timeout.total'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      script: [E, E, E, E],
      times: [0, 1000, 3000, 7000],
      reason: 'exhausted',
    },
    {
      id: "a hard stop is not retried even by 'all'",
      retriers: [{ errorEquals: ['all'] }],
      script: ['limit.steps'],
      times: [0],
      reason: 'non-retryable',
    },
  ];

  it.each(vectors)('$id', async ({ retriers, script, times, reason }) => {
    const h = await harness(retriers, script);
    expect(h.times).toEqual(times);
    expect(h.outcome.ok).toBe(false);
    if (h.outcome.ok) return;
    // The last attempt's own error comes back, marked with why retrying stopped.
    expect((h.outcome.error as GuardError).code).toBe(script[script.length - 1]);
    expect((h.outcome.error as GuardError).message).toBe(`attempt ${script.length}: ${script[script.length - 1]}`);
    expect(retryOutcome(h.outcome.error)).toEqual({ reason, attempts: script.length, code: script[script.length - 1] });
    expect(h.retries.map((r) => r.attempt)).toEqual(times.slice(1).map((_, i) => i + 1));
    expect(h.clock.pending).toBe(0);
  });

  it('S2 with full jitter: each wait is cap * r', async () => {
    const draws = [0.25, 0.5, 0.9];
    let i = 0;
    const h = await harness([{ errorEquals: [E], intervalMs: 3000, maxDelayMs: 5000, jitter: 'full' }], [E, E, E, E], {
      random: () => draws[i++],
    });
    expect(h.times).toEqual([0, 750, 750 + 2500, 750 + 2500 + 4500]);
    expect(h.retries.map((r) => r.delayMs)).toEqual([750, 2500, 4500]);
  });

  it('returns the first success', async () => {
    const h = await harness([{ errorEquals: [E] }], [E, E, { value: 'ok' }]);
    expect(h.outcome).toEqual({ ok: true, value: 'ok' });
    expect(h.times).toEqual([0, 1000, 3000]);
    expect(h.retries.map((r) => ({ attempt: r.attempt, code: r.code, delayMs: r.delayMs, retrier: r.retrier, retrierAttempt: r.retrierAttempt }))).toEqual([
      { attempt: 1, code: E, delayMs: 1000, retrier: 0, retrierAttempt: 1 },
      { attempt: 2, code: E, delayMs: 2000, retrier: 0, retrierAttempt: 2 },
    ]);
  });

  it('an error with no code is rethrown at once', async () => {
    const boom = new TypeError('bug');
    const h = await harness([{ errorEquals: ['all'] }], [boom]);
    expect(h.outcome).toEqual({ ok: false, error: boom });
    expect(retryOutcome(boom)).toEqual({ reason: 'unknown-error', attempts: 1 });
    expect(h.times).toEqual([0]);
  });
});

describe('withRetries: retry-after', () => {
  const limited = (retryAfterMs: number) => guardError('rate.limited', 'slow down', { retryAfterMs });

  it.each([
    { retryAfterMs: 7000, wait: 7000 },
    { retryAfterMs: 200, wait: 1000 },
    { retryAfterMs: 600_000, wait: 30_000 },
  ])('retry-after $retryAfterMs ms → waits $wait ms', async ({ retryAfterMs, wait }) => {
    const h = await harness([{ errorEquals: ['rate.limited'] }], [limited(retryAfterMs), { value: 'ok' }]);
    expect(h.times).toEqual([0, wait]);
    expect(h.outcome).toEqual({ ok: true, value: 'ok' });
  });

  it('reads retry-after through retryAfterOf when given', async () => {
    const h = await harness([{ errorEquals: ['rate.limited'] }], ['rate.limited', { value: 'ok' }], { retryAfterOf: () => 4000 });
    expect(h.times).toEqual([0, 4000]);
  });
});

describe('withRetries: deadline', () => {
  it('gives each attempt only the time left, and stops when the wait would not fit', async () => {
    const clock0 = new FakeClock().now();
    const h = await harness([{ errorEquals: [E], intervalMs: 3000 }], [E, E, E], { deadline: clock0 + 5000 });
    expect(h.times).toEqual([0, 3000]);
    expect(h.timeLeft).toEqual([5000, 2000]);
    expect(h.outcome.ok).toBe(false);
    if (!h.outcome.ok) expect(retryOutcome(h.outcome.error)).toEqual({ reason: 'no-time', attempts: 2, code: E });
    expect(h.clock.pending).toBe(0);
  });

  it('aborts an attempt at the deadline with timeout.total', async () => {
    const clock = new FakeClock();
    const signals: AbortSignal[] = [];
    const p = withRetries({
      policy: compileRetryPolicy([{ errorEquals: ['all'] }]),
      scope: 's',
      clock,
      deadline: clock.now() + 1000,
      codeOf,
      attempt: (_n, signal) =>
        new Promise<never>((_resolve, reject) => {
          signals.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const settled = p.catch((e: unknown) => e);
    await clock.advance(999);
    expect(signals[0].aborted).toBe(false);
    await clock.advance(1);
    const err = await settled;
    expect(GuardError.isInstance(err) && err.code).toBe('timeout.total');
    expect(retryOutcome(err)?.reason).toBe('no-time');
    expect(signals).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('a deadline already passed fails with timeout.total before any attempt', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const err = await withRetries({
      policy: compileRetryPolicy([{ errorEquals: ['all'] }]),
      scope: 's',
      clock,
      deadline: clock.now(),
      codeOf,
      attempt: async () => ++calls,
    }).catch((e: unknown) => e);
    expect(GuardError.isInstance(err) && err.code).toBe('timeout.total');
    expect(calls).toBe(0);
  });
});

describe('withRetries: abort', () => {
  it('an abort during the wait rejects at once with the reason', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    let calls = 0;
    const p = withRetries({
      policy: compileRetryPolicy([{ errorEquals: [E], intervalMs: 3000 }]),
      scope: 's',
      clock,
      signal: ctrl.signal,
      codeOf,
      attempt: async () => {
        calls++;
        throw guardError(E, 'down');
      },
    });
    const settled = p.catch((e: unknown) => e);
    await clock.advance(1000);
    expect(clock.pending).toBe(1); // the wait
    const reason = new Error('user cancelled');
    ctrl.abort(reason);
    expect(await settled).toBe(reason);
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('an aborted signal stops before the first attempt', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('gone'));
    let calls = 0;
    const err = await withRetries({
      policy: compileRetryPolicy([{ errorEquals: ['all'] }]),
      scope: 's',
      clock: new FakeClock(),
      signal: ctrl.signal,
      codeOf,
      attempt: async () => ++calls,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('gone');
    expect(calls).toBe(0);
  });

  it('an abort during an attempt reaches the attempt and is not retried', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    let calls = 0;
    const p = withRetries({
      policy: compileRetryPolicy([{ errorEquals: ['all'] }]),
      scope: 's',
      clock,
      signal: ctrl.signal,
      codeOf: () => E, // even an error that maps to a retryable code
      attempt: (_n, signal) =>
        new Promise<never>((_resolve, reject) => {
          calls++;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const reason = new Error('stop');
    ctrl.abort(reason);
    expect(await p.catch((e: unknown) => e)).toBe(reason);
    await clock.advance(10_000);
    expect(calls).toBe(1);
  });
});

describe('withRetries: retry budget', () => {
  it('a denied retry rethrows the last error, marked as denied by the budget', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetries: 0 });
    const h = await harness([{ errorEquals: [E] }], [E, { value: 'never' }], { budget });
    expect(h.times).toEqual([0]);
    expect(h.outcome.ok).toBe(false);
    if (h.outcome.ok) return;
    const err = h.outcome.error as GuardError;
    expect(err.code).toBe(E);
    expect(err.details.retryDenied).toBe('budget');
    expect(retryOutcome(err)).toEqual({ reason: 'budget', attempts: 1, code: E });
  });

  it('limits a storm: 100 failing calls get at most 20 % + floor retries', async () => {
    const clock = new FakeClock();
    const budget = new RetryBudget(); // 20 % over 10 s, floor 3
    const policy = compileRetryPolicy([{ errorEquals: [E], intervalMs: 10, maxAttempts: 3 }]);
    let attempts = 0;
    let retries = 0;
    const calls = Array.from({ length: 100 }, () =>
      withRetries({
        policy,
        budget,
        scope: 'provider:sim',
        clock,
        codeOf,
        onRetry: () => retries++,
        attempt: async () => {
          attempts++;
          throw guardError(E, 'down');
        },
      }).catch((e: unknown) => e),
    );
    await clock.advance(1000);
    const errors = await Promise.all(calls);
    expect(retries).toBeLessThanOrEqual(0.2 * 100 + 3);
    expect(retries).toBe(20);
    expect(attempts).toBe(100 + retries);
    expect(errors.filter((e) => retryOutcome(e)?.reason === 'budget').length).toBeGreaterThan(0);
    expect(clock.pending).toBe(0);
  });
});
