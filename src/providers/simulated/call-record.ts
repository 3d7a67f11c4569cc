import { EventEmitter } from 'node:events';
import type { ChatUsage } from '../../core/chat.ts';
import type { Clock } from '../../core/clock.ts';
import type { ProviderError } from '../provider.ts';
import type { SimScenarioName } from './scenario.ts';

/**
 * What the simulated model did, for tests to assert on: counters, the list of aborts, and typed events.
 * fmguard's tests use these to prove that a timeout or a client disconnect really stopped the upstream
 * generation rather than walking away from it.
 */
export interface SimStats {
  /** Calls started (complete and stream). */
  calls: number;
  /** Calls that produced their whole output. */
  completed: number;
  /** Calls stopped by their AbortSignal. */
  aborted: number;
  /** Calls that ended in a ProviderError (fail, throttle, invalid request). */
  failures: number;
  /** Streams the consumer stopped reading (return/break) without aborting. */
  cancelled: number;
  /** Calls started and not yet ended. */
  inFlight: number;
  /** Tokens of completed calls. */
  promptTokens: number;
  completionTokens: number;
}

export interface SimCallInfo {
  requestId: string;
  model: string;
  /** The scenario played, or 'invalid' for a request that was rejected before one was chosen. */
  scenario: SimScenarioName | 'invalid';
  stream: boolean;
}

export interface SimAbortEvent extends SimCallInfo {
  reason: unknown;
  /** Whether any output had been sent when the abort came. */
  phase: 'before_first_token' | 'streaming';
  chunksSent: number;
  completionTokensSent: number;
  /** Clock time of the abort (epoch ms). */
  at: number;
}

export interface SimEventMap {
  call: [SimCallInfo];
  complete: [SimCallInfo & { usage: ChatUsage }];
  failure: [SimCallInfo & { error: ProviderError }];
  abort: [SimAbortEvent];
  cancel: [SimCallInfo & { chunksSent: number }];
}

function emptyStats(): SimStats {
  return { calls: 0, completed: 0, aborted: 0, failures: 0, cancelled: 0, inFlight: 0, promptTokens: 0, completionTokens: 0 };
}

export class SimRecorder {
  readonly stats: SimStats = emptyStats();
  readonly aborts: SimAbortEvent[] = [];
  readonly events = new EventEmitter<SimEventMap>();

  constructor(private readonly clock: Clock) {}

  begin(info: SimCallInfo): CallRecord {
    this.stats.calls++;
    this.stats.inFlight++;
    this.events.emit('call', info);
    return new CallRecord(this, info, this.clock);
  }

  /** Zero the counters and forget past aborts (calls in flight still end normally). */
  reset(): void {
    const inFlight = this.stats.inFlight;
    Object.assign(this.stats, emptyStats(), { inFlight });
    this.aborts.length = 0;
  }
}

/** One call's outcome; the first of complete / fail / abort / cancel wins, later ones are ignored. */
export class CallRecord {
  done = false;
  chunksSent = 0;
  completionTokensSent = 0;

  constructor(
    private readonly recorder: SimRecorder,
    readonly info: SimCallInfo,
    private readonly clock: Clock,
  ) {}

  sent(tokens: number): void {
    this.chunksSent++;
    this.completionTokensSent += tokens;
  }

  complete(usage: ChatUsage): void {
    if (!this.end()) return;
    const { stats, events } = this.recorder;
    stats.completed++;
    stats.promptTokens += usage.prompt_tokens;
    stats.completionTokens += usage.completion_tokens;
    events.emit('complete', { ...this.info, usage });
  }

  /** Records the failure and returns the error, so callers can `throw record.fail(err)`. */
  fail(error: ProviderError): ProviderError {
    if (this.end()) {
      this.recorder.stats.failures++;
      this.recorder.events.emit('failure', { ...this.info, error });
    }
    return error;
  }

  abort(reason: unknown): void {
    if (!this.end()) return;
    const event: SimAbortEvent = {
      ...this.info,
      reason,
      phase: this.chunksSent === 0 ? 'before_first_token' : 'streaming',
      chunksSent: this.chunksSent,
      completionTokensSent: this.completionTokensSent,
      at: this.clock.now(),
    };
    this.recorder.stats.aborted++;
    this.recorder.aborts.push(event);
    this.recorder.events.emit('abort', event);
  }

  cancel(): void {
    if (!this.end()) return;
    this.recorder.stats.cancelled++;
    this.recorder.events.emit('cancel', { ...this.info, chunksSent: this.chunksSent });
  }

  /** How a call that threw ends: an abort if its signal fired, otherwise left to the caller. */
  settleThrow(signal: AbortSignal): void {
    if (signal.aborted) this.abort(signal.reason);
  }

  private end(): boolean {
    if (this.done) return false;
    this.done = true;
    this.recorder.stats.inFlight--;
    return true;
  }
}
