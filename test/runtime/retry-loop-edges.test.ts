import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.ts';
import type { StopCode } from '../../src/core/codes.ts';
import { GuardError, guardError } from '../../src/core/errors.ts';
import { compileRetryPolicy, type Retrier } from '../../src/core/retry.ts';
import { retryOutcome, withRetries, type RetryInfo } from '../../src/runtime/retry-loop.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const E: StopCode = 'upstream.error';
const codeOf = (err: unknown): StopCode | undefined => (GuardError.isInstance(err) ? err.code : undefined);
const retriers = (maxAttempts = 3, intervalMs = 1000): Retrier[] => [{ errorEquals: [E], intervalMs, maxAttempts, backoffRate: 1 }];
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('withRetries: how a given-up error is marked', () => {
  it('retryOutcome of a non-object is undefined', () => {
    expect(retryOutcome(null)).toBeUndefined();
    expect(retryOutcome(undefined)).toBeUndefined();
    expect(retryOutcome('boom')).toBeUndefined();
  });

  it('rethrows a thrown primitive and a frozen error as they are', async () => {
    const clock = new FakeClock();
    await expect(withRetries({ policy: compileRetryPolicy(retriers()), scope: 's', clock, codeOf, attempt: async () => Promise.reject('boom') })).rejects.toBe(
      'boom',
    );
    const frozen = Object.freeze(guardError(E, 'frozen'));
    const p = settle(withRetries({ policy: compileRetryPolicy([]), scope: 's', clock, codeOf, attempt: async () => Promise.reject(frozen) }));
    const out = await p;
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).toBe(frozen);
      expect(retryOutcome(out.error)).toBeUndefined();
    }
  });

  it('the mark is not enumerable, is replaced by an outer loop, and only a budget refusal sets retryDenied', async () => {
    const clock = new FakeClock();
    const err = guardError(E, 'always');
    const inner = () => withRetries({ policy: compileRetryPolicy([]), scope: 's', clock, codeOf, attempt: async () => Promise.reject(err) });
    const out = await settle(withRetries({ policy: compileRetryPolicy([]), scope: 's', clock, codeOf: () => undefined, attempt: inner }));
    expect(out.ok).toBe(false);
    expect(retryOutcome(err)).toEqual({ reason: 'unknown-error', attempts: 1 });
    expect(Object.getOwnPropertySymbols({ ...err })).not.toContain(Symbol.for('fmguard.retryOutcome'));
    expect(Object.getOwnPropertyDescriptor(err, Symbol.for('fmguard.retryOutcome'))?.enumerable).toBe(false);
    expect(err.details.retryDenied).toBeUndefined();
  });
});

describe('withRetries: deadlines', () => {
  it('a deadline already passed refuses the first attempt with timeout.total', async () => {
    const clock = new FakeClock();
    const deadline = clock.now() - 1;
    let calls = 0;
    const err = await withRetries({
      policy: compileRetryPolicy(retriers()),
      scope: 's',
      clock,
      codeOf,
      deadline,
      attempt: async () => {
        calls++;
        return 'x';
      },
    }).catch((e: unknown) => e);
    expect(calls).toBe(0);
    expect(err).toMatchObject({ code: 'timeout.total', message: 'the deadline passed before the first attempt', details: { deadline } });
  });

  it('time that passes around a retry wait gives up with the last error, no-time, the attempts made', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const deadline = start + 10_000;
    const first = guardError(E, 'first');
    const retries: RetryInfo[] = [];
    const p = settle(
      withRetries({
        policy: compileRetryPolicy(retriers(3, 1000)),
        scope: 's',
        clock,
        codeOf,
        deadline,
        onRetry: (info) => {
          retries.push(info);
          clock.set(deadline); // a slow listener: the deadline passes during the wait
        },
        attempt: async () => Promise.reject(first),
      }),
    );
    await clock.advance(20_000);
    const out = await p;
    expect(retries).toHaveLength(1);
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).toBe(first);
      expect(retryOutcome(first)).toEqual({ reason: 'no-time', attempts: 1, code: E });
    }
  });

  it('an attempt running at the deadline is aborted with timeout.total naming it (no caller signal)', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const deadline = start + 5000;
    const seen: (number | undefined)[] = [];
    const p = settle(
      withRetries({
        policy: compileRetryPolicy([]),
        scope: 's',
        clock,
        codeOf,
        deadline,
        attempt: async (_n, signal, ctx) => {
          seen.push(ctx.timeLeftMs);
          await sleep(clock, 60_000, signal);
          return 'late';
        },
      }),
    );
    await clock.advance(5000);
    const out = await p;
    expect(seen).toEqual([5000]);
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).toMatchObject({ code: 'timeout.total', message: 'deadline reached during attempt 1', details: { deadline, attempt: 1 } });
    }
    expect(clock.pending).toBe(0);
  });

  it('with a caller signal, the loop still enforces the deadline by default', async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const deadline = clock.now() + 5000;
    const p = settle(
      withRetries({
        policy: compileRetryPolicy([]),
        scope: 's',
        clock,
        codeOf,
        deadline,
        signal: caller.signal,
        attempt: async (_n, signal) => {
          expect(signal).not.toBe(caller.signal);
          await sleep(clock, 60_000, signal);
          return 'late';
        },
      }),
    );
    await clock.advance(5000);
    const out = await p;
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toMatchObject({ code: 'timeout.total', details: { attempt: 1 } });
  });

  it('enforceDeadline false: the caller signal is passed as is, the attempt outlives the deadline, and gets the time left', async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const deadline = clock.now() + 5000;
    const seen: (number | undefined)[] = [];
    const p = settle(
      withRetries({
        policy: compileRetryPolicy([]),
        scope: 's',
        clock,
        codeOf,
        deadline,
        enforceDeadline: false,
        signal: caller.signal,
        attempt: async (_n, signal, ctx) => {
          expect(signal).toBe(caller.signal);
          seen.push(ctx.timeLeftMs);
          await sleep(clock, 8000, signal);
          return 'done';
        },
      }),
    );
    await clock.advance(8000);
    expect(await p).toEqual({ ok: true, value: 'done' });
    expect(seen).toEqual([5000]);
  });

  it('without a deadline the caller signal is passed as is; without either, nothing aborts the attempt', async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const a = settle(
      withRetries({
        policy: compileRetryPolicy([]),
        scope: 's',
        clock,
        codeOf,
        signal: caller.signal,
        attempt: async (_n, signal, ctx) => {
          expect(signal).toBe(caller.signal);
          expect(ctx.timeLeftMs).toBeUndefined();
          return 'a';
        },
      }),
    );
    expect(await a).toEqual({ ok: true, value: 'a' });
    const b = settle(
      withRetries({
        policy: compileRetryPolicy([]),
        scope: 's',
        clock,
        codeOf,
        attempt: async (_n, signal) => {
          await sleep(clock, 1000, signal);
          return 'b';
        },
      }),
    );
    await clock.advance(1000);
    expect(await b).toEqual({ ok: true, value: 'b' });
  });
});

describe('withRetries: the caller signal', () => {
  it('a caller abort during an attempt under a deadline reaches the attempt; no retry follows', async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const reason = guardError(E, 'caller stopped'); // retryable code: still no retry
    const retries: RetryInfo[] = [];
    let attempts = 0;
    const p = settle(
      withRetries({
        policy: compileRetryPolicy(retriers(3, 1000)),
        scope: 's',
        clock,
        codeOf,
        deadline: clock.now() + 60_000,
        signal: caller.signal,
        onRetry: (i) => retries.push(i),
        attempt: async (_n, signal) => {
          attempts++;
          await sleep(clock, 30_000, signal);
          return 'late';
        },
      }),
    );
    await clock.advance(1000);
    caller.abort(reason);
    await clock.advance(60_000);
    const out = await p;
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).toBe(reason);
      expect(retryOutcome(out.error)).toBeUndefined();
    }
    expect(attempts).toBe(1);
    expect(retries).toEqual([]);
  });

  it("an attempt's signal is unlinked from the caller's once the attempt returns", async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    let kept: AbortSignal | undefined;
    const value = await withRetries({
      policy: compileRetryPolicy([]),
      scope: 's',
      clock,
      codeOf,
      deadline: clock.now() + 60_000,
      signal: caller.signal,
      attempt: async (_n, signal) => {
        kept = signal;
        return 'ok';
      },
    });
    expect(value).toBe('ok');
    expect(clock.pending).toBe(0);
    caller.abort(new Error('later'));
    expect(kept?.aborted).toBe(false);
  });
});
