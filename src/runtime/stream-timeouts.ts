import type { Clock } from '../core/clock.ts';
import { guardError } from '../core/errors.ts';
import type { ModelTimeouts } from '../config/resolve.ts';

/**
 * Timers for one model-call attempt. Each fires by aborting the attempt's controller with its own
 * stop code, so the upstream request is really cancelled (the provider sees the abort and closes its
 * socket), not merely abandoned.
 *
 * - total: from the start of the attempt to the end of the response or stream;
 * - first token: from the start until the first chunk (streams only);
 * - idle: the longest gap between two chunks (streams only).
 */
export class AttemptTimers {
  private readonly clock: Clock;
  private readonly controller: AbortController;
  private readonly timeouts: ModelTimeouts;
  private total: unknown;
  private firstToken: unknown;
  private idle: unknown;
  private sawFirst = false;

  constructor(clock: Clock, controller: AbortController, timeouts: ModelTimeouts, { streaming, totalMs }: { streaming: boolean; totalMs: number }) {
    this.clock = clock;
    this.controller = controller;
    this.timeouts = timeouts;
    this.total = clock.setTimeout(() => this.fire('timeout.total', totalMs), totalMs);
    if (streaming) this.firstToken = clock.setTimeout(() => this.fire('timeout.first_token', timeouts.firstTokenMs), timeouts.firstTokenMs);
  }

  private fire(code: 'timeout.total' | 'timeout.first_token' | 'timeout.idle', ms: number): void {
    const what = code === 'timeout.total' ? 'total' : code === 'timeout.first_token' ? 'first-token' : 'idle';
    this.controller.abort(guardError(code, `model call exceeded its ${what} timeout of ${ms} ms`, { limit: ms }));
  }

  /** A chunk arrived: the first-token timer is done and the idle timer starts over. */
  chunk(): void {
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (this.firstToken !== undefined) this.clock.clearTimeout(this.firstToken);
      this.firstToken = undefined;
    }
    if (this.idle !== undefined) this.clock.clearTimeout(this.idle);
    this.idle = this.clock.setTimeout(() => this.fire('timeout.idle', this.timeouts.idleMs), this.timeouts.idleMs);
  }

  clear(): void {
    for (const timer of [this.total, this.firstToken, this.idle]) if (timer !== undefined) this.clock.clearTimeout(timer);
    this.total = this.firstToken = this.idle = undefined;
  }
}

/** A promise that rejects with the signal's reason when it aborts (for racing a stuck iterator). */
export function abortPromise(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  promise.catch(() => {});
  return { promise, dispose };
}
