import { describe, expect, it } from 'vitest';
import { ALL_STOP_CODES, STOP_CODES, type StopCode } from '../../src/core/codes.ts';
import { MAX_RETRY_DELAY_MS, RetryConfigError, compileRetryPolicy, validateRetriers, type Retrier, type RetryDecision } from '../../src/core/retry.ts';

/** mulberry32: a seeded uniform [0, 1) source; `draws` records what it returned. */
function seeded(seed: number): { random: () => number; draws: number[] } {
  let a = seed >>> 0;
  const draws: number[] = [];
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    draws.push(r);
    return r;
  };
  return { random, draws };
}

function run(retriers: Retrier[], codes: StopCode[], random?: () => number): RetryDecision[] {
  const state = compileRetryPolicy(retriers, { random }).start();
  return codes.map((c) => state.next(c));
}

const E: StopCode = 'upstream.error';
const A: StopCode = 'upstream.error';
const B: StopCode = 'timeout.first_token';
const C: StopCode = 'rate.limited';

describe('retry policy: Step Functions vectors', () => {
  // Expected: a number = retry after that delay; a string = the stop reason.
  const vectors: { id: string; retriers: Retrier[]; codes: StopCode[]; expected: (number | string)[]; retrierOf?: number[] }[] = [
    {
      id: 'S1: I=3, MA=3, BR=2; E,E,E,E → 3,6,12 then exhausted',
      retriers: [{ errorEquals: [E], intervalMs: 3000, maxAttempts: 3, backoffRate: 2 }],
      codes: [E, E, E, E],
      expected: [3000, 6000, 12000, 'exhausted'],
    },
    {
      id: 'S2: I=3, MA=3, BR=2, MaxDelay=5 → 3,5,5',
      retriers: [{ errorEquals: [E], intervalMs: 3000, maxAttempts: 3, backoffRate: 2, maxDelayMs: 5000 }],
      codes: [E, E, E, E],
      expected: [3000, 5000, 5000, 'exhausted'],
    },
    {
      id: 'S5: R1{A,B; I=1,BR=2,MA=2}, R2{C; I=5}; A,B,C,B → 1,2,5 then R1 exhausted',
      retriers: [
        { errorEquals: [A, B], intervalMs: 1000, backoffRate: 2, maxAttempts: 2 },
        { errorEquals: [C], intervalMs: 5000 },
      ],
      codes: [A, B, C, B],
      expected: [1000, 2000, 5000, 'exhausted'],
      retrierOf: [0, 0, 1, 0],
    },
    {
      id: 'S6: [{Timeout, MA=0}, {all}]; timeout is not retried',
      retriers: [{ errorEquals: ['timeout.total'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      codes: ['timeout.total'],
      expected: ['exhausted'],
      retrierOf: [0],
    },
    {
      id: 'S6: [{Timeout, MA=0}, {all}]; any other error waits 1,2,4',
      retriers: [{ errorEquals: ['timeout.total'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      codes: [E, 'rate.limited', 'breaker.open', E],
      expected: [1000, 2000, 4000, 'exhausted'],
      retrierOf: [1, 1, 1, 1],
    },
    {
      id: 'S6 with a family wildcard: timeout.* MA=0 catches every timeout',
      retriers: [{ errorEquals: ['timeout.*'], maxAttempts: 0 }, { errorEquals: ['all'] }],
      codes: ['timeout.first_token', 'timeout.idle', 'timeout.tool', E],
      expected: ['exhausted', 'exhausted', 'exhausted', 1000],
      retrierOf: [0, 0, 0, 1],
    },
    {
      id: 'defaults: I=1000, BR=2, MA=3',
      retriers: [{ errorEquals: [E] }],
      codes: [E, E, E, E],
      expected: [1000, 2000, 4000, 'exhausted'],
    },
    {
      id: 'no retrier matches',
      retriers: [{ errorEquals: [E] }],
      codes: ['timeout.total'],
      expected: ['no-match'],
    },
  ];

  it.each(vectors)('$id', ({ retriers, codes, expected, retrierOf }) => {
    const decisions = run(retriers, codes);
    expect(decisions.map((d) => (d.retry ? d.delayMs : d.reason))).toEqual(expected);
    if (retrierOf) expect(decisions.map((d) => ('retrier' in d ? d.retrier : undefined))).toEqual(retrierOf);
  });

  const jitterVectors = [
    { id: 'S2 FULL: U(0,3),U(0,5),U(0,5)', intervalMs: 3000, maxDelayMs: 5000, caps: [3000, 5000, 5000] },
    { id: 'S3 FULL: I=2 → U(0,2),U(0,4),U(0,8)', intervalMs: 2000, maxDelayMs: undefined, caps: [2000, 4000, 8000] },
  ];

  it.each(jitterVectors)('$id', ({ intervalMs, maxDelayMs, caps }) => {
    for (const seed of [1, 2, 42, 1234567]) {
      const { random, draws } = seeded(seed);
      const retriers: Retrier[] = [{ errorEquals: [E], intervalMs, backoffRate: 2, maxAttempts: 3, maxDelayMs, jitter: 'full' }];
      const decisions = run(retriers, [E, E, E, E], random);
      expect(draws).toHaveLength(3);
      decisions.slice(0, 3).forEach((d, i) => {
        expect(d.retry).toBe(true);
        if (!d.retry) return;
        expect(d.delayMs).toBeGreaterThanOrEqual(0);
        expect(d.delayMs).toBeLessThan(caps[i]);
        expect(d.delayMs).toBe(caps[i] * draws[i]);
      });
      expect(decisions[3]).toMatchObject({ retry: false, reason: 'exhausted' });
    }
  });

  it('full jitter spans the whole interval: r=0 gives 0, r→1 gives the cap', () => {
    const low = run([{ errorEquals: [E], intervalMs: 3000, jitter: 'full' }], [E], () => 0);
    const high = run([{ errorEquals: [E], intervalMs: 3000, jitter: 'full' }], [E], () => 0.999999);
    expect(low[0]).toMatchObject({ retry: true, delayMs: 0 });
    expect(high[0]).toMatchObject({ retry: true, delayMs: 3000 * 0.999999 });
  });

  it('does not draw random numbers without jitter', () => {
    const { random, draws } = seeded(7);
    run([{ errorEquals: [E] }], [E, E], random);
    expect(draws).toHaveLength(0);
  });
});

describe('retry policy: what is never retried', () => {
  const noRetry = ALL_STOP_CODES.filter((c) => STOP_CODES[c].retry === 'no');

  it.each(noRetry)("'all' does not match the hard stop %s", (code) => {
    expect(run([{ errorEquals: ['all'] }], [code])).toEqual([{ retry: false, reason: 'non-retryable' }]);
  });

  it("'all' matches every code a retry can help, except those waiting for approval", () => {
    const policy = compileRetryPolicy([{ errorEquals: ['all'] }]);
    for (const code of ALL_STOP_CODES) {
      const hint = STOP_CODES[code].retry;
      expect(policy.match(code), code).toBe(hint === 'no' || hint === 'after-approval' ? undefined : 0);
    }
  });

  it('approval codes are retried only when named', () => {
    expect(run([{ errorEquals: ['all'] }], ['approval.required'])).toEqual([{ retry: false, reason: 'no-match' }]);
    expect(run([{ errorEquals: ['approval.required'] }], ['approval.required'])[0]).toMatchObject({ retry: true });
    expect(run([{ errorEquals: ['approval.*'] }], ['approval.expired', 'approval.denied'])).toEqual([
      { retry: true, delayMs: 1000, retrier: 0, attempt: 1 },
      { retry: false, reason: 'non-retryable' },
    ]);
  });

  it('maxAttempts 0 never retries', () => {
    expect(run([{ errorEquals: [E], maxAttempts: 0 }], [E])).toEqual([{ retry: false, reason: 'exhausted', retrier: 0, attempt: 0 }]);
  });

  it('an unknown code does not match', () => {
    const state = compileRetryPolicy([{ errorEquals: ['all'] }]).start();
    expect(state.next('nope' as StopCode)).toEqual({ retry: false, reason: 'no-match' });
  });
});

describe('retry policy: retry-after and time left', () => {
  const policy = (opts?: { maxRetryAfterMs?: number }) => compileRetryPolicy([{ errorEquals: ['rate.limited'], intervalMs: 1000 }], opts);

  it.each([
    { retryAfterMs: 4000, expected: 4000, why: 'longer than the backoff: honoured' },
    { retryAfterMs: 100, expected: 1000, why: 'shorter than the backoff: the backoff wins' },
    { retryAfterMs: 120_000, expected: 30_000, why: 'capped at maxRetryAfterMs (30 s)' },
    { retryAfterMs: 0, expected: 1000, why: 'zero: ignored' },
    { retryAfterMs: Number.NaN, expected: 1000, why: 'NaN: ignored' },
  ])('retry-after $retryAfterMs → $expected ($why)', ({ retryAfterMs, expected }) => {
    expect(policy().start().next('rate.limited', { retryAfterMs })).toMatchObject({ retry: true, delayMs: expected });
  });

  it('maxRetryAfterMs is configurable', () => {
    expect(policy({ maxRetryAfterMs: 5000 }).start().next('rate.limited', { retryAfterMs: 60_000 })).toMatchObject({ delayMs: 5000 });
  });

  it("a delay that does not fit the time left is 'no-time' and does not use up a retry", () => {
    const state = policy().start();
    expect(state.next('rate.limited', { timeLeftMs: 1000 })).toEqual({ retry: false, reason: 'no-time', retrier: 0, attempt: 1, delayMs: 1000 });
    expect(state.attempts).toEqual([0]);
    expect(state.next('rate.limited', { timeLeftMs: 1001 })).toEqual({ retry: true, delayMs: 1000, retrier: 0, attempt: 1 });
    expect(state.next('rate.limited', { retryAfterMs: 10_000, timeLeftMs: 9000 })).toMatchObject({ reason: 'no-time', delayMs: 10_000 });
  });

  it('a state can be resumed from saved attempts', () => {
    const state = compileRetryPolicy([{ errorEquals: [E], maxAttempts: 2 }]).start([1]);
    expect(state.next(E)).toEqual({ retry: true, delayMs: 2000, retrier: 0, attempt: 2 });
    expect(state.next(E)).toMatchObject({ reason: 'exhausted' });
  });

  it('long backoffs stay within what a timer can wait', () => {
    const state = compileRetryPolicy([{ errorEquals: [E], backoffRate: 10, maxAttempts: 30 }]).start();
    const delays: number[] = [];
    for (let i = 0; i < 30; i++) {
      const d = state.next(E);
      if (d.retry) delays.push(d.delayMs);
    }
    expect(delays).toHaveLength(30);
    expect(Math.max(...delays)).toBe(MAX_RETRY_DELAY_MS);
  });
});

describe('retry policy: validation', () => {
  const cases: { name: string; retriers: unknown; problems: { path: string; message: RegExp }[] }[] = [
    {
      name: "'all' not in the last retrier",
      retriers: [{ errorEquals: ['all'] }, { errorEquals: [E] }],
      problems: [{ path: 'retry[0].errorEquals', message: /'all' must be the only entry of the last retrier/ }],
    },
    {
      name: "'all' with other entries",
      retriers: [{ errorEquals: [E] }, { errorEquals: ['all', 'rate.limited'] }],
      problems: [{ path: 'retry[1].errorEquals', message: /'all' must be the only entry of the last retrier/ }],
    },
    {
      name: 'unknown code',
      retriers: [{ errorEquals: ['upstream.eror'] }],
      problems: [{ path: 'retry[0].errorEquals[0]', message: /unknown stop code 'upstream.eror'/ }],
    },
    {
      name: 'hard stop named',
      retriers: [{ errorEquals: [E, 'limit.steps'] }],
      problems: [{ path: 'retry[0].errorEquals[1]', message: /'limit.steps' is never retried/ }],
    },
    {
      name: 'family of hard stops',
      retriers: [{ errorEquals: ['loop.*'] }],
      problems: [{ path: 'retry[0].errorEquals[0]', message: /matches no retryable code/ }],
    },
    {
      name: 'unknown family',
      retriers: [{ errorEquals: ['network.*'] }],
      problems: [{ path: 'retry[0].errorEquals[0]', message: /unknown code family 'network'/ }],
    },
    {
      name: 'empty errorEquals',
      retriers: [{ errorEquals: [] }],
      problems: [{ path: 'retry[0].errorEquals', message: /non-empty list/ }],
    },
    {
      name: 'bad numbers and jitter',
      retriers: [{ errorEquals: [E], intervalMs: 0, backoffRate: 0.5, maxAttempts: 1.5, maxDelayMs: -1, jitter: 'FULL' }],
      problems: [
        { path: 'retry[0].intervalMs', message: /positive/ },
        { path: 'retry[0].backoffRate', message: />= 1/ },
        { path: 'retry[0].maxAttempts', message: /integer/ },
        { path: 'retry[0].maxDelayMs', message: /positive/ },
        { path: 'retry[0].jitter', message: /'full' or 'none'/ },
      ],
    },
    {
      name: 'misspelt field',
      retriers: [{ errorEquals: [E], maxAttempt: 2 }],
      problems: [{ path: 'retry[0].maxAttempt', message: /unknown field/ }],
    },
    { name: 'not a list', retriers: { errorEquals: [E] }, problems: [{ path: 'retry', message: /list of retriers/ }] },
    { name: 'not an object', retriers: ['upstream.error'], problems: [{ path: 'retry[0]', message: /object/ }] },
  ];

  it.each(cases)('$name', ({ retriers, problems }) => {
    const found = validateRetriers(retriers);
    expect(found).toHaveLength(problems.length);
    problems.forEach((p, i) => {
      expect(found[i].path).toBe(p.path);
      expect(found[i].message).toMatch(p.message);
    });
  });

  it('prefixes paths for the config loader', () => {
    expect(validateRetriers([{ errorEquals: ['all'] }, { errorEquals: [E] }], 'agents.bot.retry')[0].path).toBe('agents.bot.retry[0].errorEquals');
  });

  it('compileRetryPolicy throws a RetryConfigError naming each path', () => {
    const bad = [{ errorEquals: [E] }, { errorEquals: ['all', E] }, { errorEquals: [E], backoffRate: 0 }];
    expect(() => compileRetryPolicy(bad)).toThrow(RetryConfigError);
    try {
      compileRetryPolicy(bad);
    } catch (err) {
      expect((err as RetryConfigError).message).toContain("retry[1].errorEquals: 'all' must be the only entry of the last retrier");
      expect((err as RetryConfigError).problems.map((p) => p.path)).toEqual(['retry[1].errorEquals', 'retry[2].backoffRate']);
    }
  });

  it('a valid configuration has no problems', () => {
    expect(
      validateRetriers([
        { errorEquals: ['upstream.error', 'timeout.first_token'], intervalMs: 500, backoffRate: 2, maxAttempts: 3, maxDelayMs: 8000, jitter: 'full' },
        { errorEquals: ['timeout.*'], maxAttempts: 0 },
        { errorEquals: ['all'] },
      ]),
    ).toEqual([]);
  });
});
