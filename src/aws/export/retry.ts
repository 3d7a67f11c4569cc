import type { ExportReport } from './report.ts';
import { ALL_STOP_CODES, BEDROCK_ERRORS, RETRY_DEFAULTS, STOP_CODES, type Retrier, type StopCode } from './sources.ts';

/** Which task an error comes from: the Bedrock model call, or a tool's Lambda function. */
export type TaskKind = 'model' | 'tool';

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}

/**
 * Bedrock exception names as the state machine sees them. The Step Functions Bedrock integration
 * prefixes the service (`Bedrock.ThrottlingException`); the AWS SDK integration names it
 * `BedrockRuntime.ThrottlingException`. Both are listed so a retrier matches either way.
 */
function bedrockNames(exception: string): string[] {
  return [`Bedrock.${exception}`, `BedrockRuntime.${exception}`];
}

/** The exceptions fmguard's Bedrock provider maps to `code` (one table for the runtime and the export). */
function bedrockExceptions(code: StopCode): string[] {
  return Object.entries(BEDROCK_ERRORS)
    .filter(([, v]) => v.code === code)
    .map(([name]) => name);
}

/**
 * fmguard stop code → the ASL error names a task of this kind raises for it:
 * - model task (`arn:aws:states:::bedrock:invokeModel`): `rate.limited`, `upstream.error` and
 *   `request.invalid` are the Bedrock exceptions fmguard's Bedrock provider maps to them;
 *   `timeout.total`, `timeout.first_token`, `timeout.idle` are `States.Timeout` (the task's
 *   TimeoutSeconds; InvokeModel does not stream, so every model timeout is the total one);
 * - tool task (Lambda): any error the function raises is fmguard's `upstream.error`, which is
 *   `States.TaskFailed` (every error but a timeout); `timeout.tool` is `States.Timeout` (the task's
 *   TimeoutSeconds) and `Sandbox.Timedout` (the function's own timeout); `rate.limited` is
 *   `Lambda.TooManyRequestsException` (reserved concurrency exhausted).
 * Codes that never come out of such a task (breaker, store, approval) have no name: [].
 */
export function aslErrorNames(code: StopCode, kind: TaskKind): string[] {
  if (kind === 'model') {
    if (code === 'rate.limited' || code === 'upstream.error' || code === 'request.invalid') return bedrockExceptions(code).flatMap(bedrockNames);
    if (code === 'timeout.total' || code === 'timeout.first_token' || code === 'timeout.idle') return ['States.Timeout'];
    return [];
  }
  if (code === 'upstream.error') return ['States.TaskFailed'];
  if (code === 'timeout.tool') return ['States.Timeout', 'Sandbox.Timedout'];
  if (code === 'rate.limited') return ['Lambda.TooManyRequestsException'];
  return [];
}

/** The codes one `errorEquals` entry stands for, as fmguard's retry matching reads it (core/retry.ts). */
export function codesOf(entry: string): StopCode[] {
  const retryable = ALL_STOP_CODES.filter((c) => STOP_CODES[c].retry !== 'no');
  // `all` skips the after-approval codes (backing off does not bring a human's approval).
  if (entry === 'all') return retryable.filter((c) => STOP_CODES[c].retry !== 'after-approval');
  if (entry.endsWith('.*')) return retryable.filter((c) => c.startsWith(entry.slice(0, -1)));
  return retryable.includes(entry as StopCode) ? [entry as StopCode] : [];
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * fmguard retriers → ASL `Retry`, field for field (the semantics are the same, reference §1):
 * intervalMs → IntervalSeconds (rounded up to whole seconds, at least 1), backoffRate → BackoffRate,
 * maxAttempts → MaxAttempts (both count retries), maxDelayMs → MaxDelaySeconds (rounded up),
 * jitter → JitterStrategy (FULL / NONE); errorEquals → the ASL names of each code for this task.
 * `all` is expanded to the names of every retryable code rather than `States.ALL`, which would also
 * retry what fmguard never retries (a ValidationException). Anything lost is reported.
 */
export function aslRetry(retriers: readonly Retrier[], kind: TaskKind, report: ExportReport, agent: string, path = `agents.${agent}.retry`): AslRetrier[] {
  const out: AslRetrier[] = [];
  retriers.forEach((r, i) => {
    const where = `${path}[${i}]`;
    const codes = [...new Set(r.errorEquals.flatMap(codesOf))];
    const names = [...new Set(codes.flatMap((c) => aslErrorNames(c, kind)))];
    const dropped = codes.filter((c) => aslErrorNames(c, kind).length === 0);
    if (names.length === 0) {
      report.add({
        area: 'step-functions',
        agent,
        subject: `${kind} retrier ${i}`,
        message: `retries ${r.errorEquals.join(', ')}, which a ${kind} task never raises: not exported`,
        source: where,
      });
      return;
    }
    if (dropped.length > 0 && !r.errorEquals.includes('all') && !r.errorEquals.some((e) => e.endsWith('.*'))) {
      report.add({
        area: 'step-functions',
        agent,
        subject: `${kind} retrier ${i}`,
        message: `${dropped.join(', ')} cannot come out of a ${kind} task: left out of ErrorEquals`,
        source: where,
      });
    }
    const intervalMs = r.intervalMs ?? RETRY_DEFAULTS.intervalMs;
    const retrier: AslRetrier = {
      ErrorEquals: names,
      IntervalSeconds: seconds(intervalMs),
      MaxAttempts: r.maxAttempts ?? RETRY_DEFAULTS.maxAttempts,
      BackoffRate: r.backoffRate ?? RETRY_DEFAULTS.backoffRate,
      JitterStrategy: (r.jitter ?? RETRY_DEFAULTS.jitter) === 'full' ? 'FULL' : 'NONE',
    };
    if (r.maxDelayMs !== undefined) retrier.MaxDelaySeconds = seconds(r.maxDelayMs);
    if (intervalMs % 1000 !== 0 || intervalMs < 1000 || (r.maxDelayMs !== undefined && (r.maxDelayMs % 1000 !== 0 || r.maxDelayMs < 1000))) {
      report.add({
        area: 'step-functions',
        agent,
        subject: `${kind} retrier ${i}`,
        message: `Step Functions waits in whole seconds: intervalMs ${intervalMs}${r.maxDelayMs !== undefined ? ` and maxDelayMs ${r.maxDelayMs}` : ''} rounded up to ${retrier.IntervalSeconds}s${retrier.MaxDelaySeconds !== undefined ? ` / ${retrier.MaxDelaySeconds}s` : ''}`,
        source: where,
      });
    }
    if (kind === 'tool' && names.includes('States.TaskFailed') && i < retriers.length - 1) {
      report.add({
        area: 'step-functions',
        agent,
        subject: `tool retrier ${i}`,
        message:
          'upstream.error is States.TaskFailed for a Lambda tool, which also matches throttles and function timeouts: later tool retriers only see States.Timeout',
        source: where,
      });
    }
    out.push(retrier);
  });
  return out;
}

/** A Fail state's name for a stop code: `StopLimitSteps` for `limit.steps` (`ToolStop…` inside the tool Map). */
export function stopStateName(code: StopCode, prefix = ''): string {
  return `${prefix}Stop${code
    .split(/[._]/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')}`;
}

/**
 * After retries: a model task's error ends the run with the stop code fmguard gives the call. Config
 * catchers (`catch:` on models, routing to a fallback) go first when the config has them.
 */
export function modelCatchers(configCatchers: AslCatcher[] = []): AslCatcher[] {
  // ResultPath keeps the state (the step counter) beside the error (reference §1, vector S9).
  return [
    ...configCatchers,
    { ErrorEquals: aslErrorNames('rate.limited', 'model'), Next: stopStateName('rate.limited'), ResultPath: '$.error' },
    { ErrorEquals: aslErrorNames('request.invalid', 'model'), Next: stopStateName('request.invalid'), ResultPath: '$.error' },
    { ErrorEquals: ['States.Timeout'], Next: stopStateName('timeout.total'), ResultPath: '$.error' },
    { ErrorEquals: ['States.ALL'], Next: stopStateName('upstream.error'), ResultPath: '$.error' },
  ];
}

/**
 * After retries: a tool task's error ends the run with the tool call's stop code. Config catchers
 * (`catch:` on tools, routing to a fallback tool) go first when the config has them.
 */
export function toolCatchers(configCatchers: AslCatcher[] = []): AslCatcher[] {
  return [
    ...configCatchers,
    { ErrorEquals: ['States.Timeout', 'Sandbox.Timedout'], Next: stopStateName('timeout.tool', 'Tool') },
    { ErrorEquals: ['States.ALL'], Next: stopStateName('upstream.error', 'Tool') },
  ];
}
