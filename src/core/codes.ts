/**
 * The stop-code catalogue (README "Stop codes"). One table maps every code to its HTTP status,
 * whether a retry can help, and whether it ends the run. SDK errors, HTTP bodies, MCP results,
 * metrics and the audit log all use these strings.
 */
export type RetryHint = 'no' | 'yes' | 'maybe' | 'later' | 'after-approval';

interface CodeInfo {
  readonly http: number;
  readonly retry: RetryHint;
  /**
   * The stop ends the run: its signal fires and work in flight is aborted (kills, wall time, loops).
   * Limits that calls are refused against (steps, tokens, cost) refuse new calls without aborting
   * the calls that were admitted within them.
   */
  readonly terminal: boolean;
}

export const STOP_CODES = {
  'request.invalid': { http: 400, retry: 'no', terminal: false },
  'auth.invalid': { http: 401, retry: 'no', terminal: false },
  'budget.exhausted': { http: 402, retry: 'no', terminal: false },
  'limit.cost': { http: 402, retry: 'no', terminal: false },
  'limit.steps': { http: 403, retry: 'no', terminal: false },
  'limit.tool_calls': { http: 403, retry: 'no', terminal: false },
  'limit.tokens': { http: 403, retry: 'no', terminal: false },
  'limit.duration': { http: 403, retry: 'no', terminal: true },
  'limit.depth': { http: 403, retry: 'no', terminal: true },
  'loop.repeated_tool_call': { http: 403, retry: 'no', terminal: true },
  'loop.repeated_error': { http: 403, retry: 'no', terminal: true },
  'loop.no_progress': { http: 403, retry: 'no', terminal: true },
  'policy.denied': { http: 403, retry: 'no', terminal: false },
  'approval.required': { http: 403, retry: 'after-approval', terminal: false },
  'approval.denied': { http: 403, retry: 'no', terminal: false },
  'approval.expired': { http: 403, retry: 'after-approval', terminal: false },
  'kill.switch': { http: 403, retry: 'no', terminal: true },
  /** The run's owner sent nothing for `defaults.runIdleTtlMs` (it died, or forgot to end it): the idle sweeper ended it. */
  'run.idle': { http: 403, retry: 'no', terminal: true },
  'rate.limited': { http: 429, retry: 'yes', terminal: false },
  'limit.concurrency': { http: 429, retry: 'yes', terminal: false },
  'limit.contended': { http: 429, retry: 'yes', terminal: false },
  'upstream.error': { http: 502, retry: 'maybe', terminal: false },
  'breaker.open': { http: 503, retry: 'later', terminal: false },
  'store.unavailable': { http: 503, retry: 'later', terminal: false },
  /** The gateway is shutting down: the call was refused, or cut after the grace period; another replica (or this one restarted) can take it. */
  'gateway.shutting_down': { http: 503, retry: 'later', terminal: false },
  'timeout.total': { http: 504, retry: 'maybe', terminal: false },
  'timeout.first_token': { http: 504, retry: 'maybe', terminal: false },
  'timeout.idle': { http: 504, retry: 'maybe', terminal: false },
  'timeout.tool': { http: 504, retry: 'maybe', terminal: false },
} as const satisfies Record<string, CodeInfo>;

export type StopCode = keyof typeof STOP_CODES;

export const ALL_STOP_CODES = Object.keys(STOP_CODES) as StopCode[];

export function isStopCode(value: unknown): value is StopCode {
  return typeof value === 'string' && Object.hasOwn(STOP_CODES, value);
}

export function codeInfo(code: StopCode): CodeInfo {
  return STOP_CODES[code];
}

/** Whether a client should retry at all (maps to `x-should-retry`). */
export function shouldRetry(code: StopCode): boolean {
  return STOP_CODES[code].retry !== 'no';
}

/** Whether a failure counts against a breaker: the upstream failed or was too slow. */
export function isUpstreamFailure(code: string): boolean {
  return code === 'upstream.error' || code.startsWith('timeout.');
}
