/**
 * AttemptTimers and abortPromise (src/runtime/stream-timeouts.ts) on a fake clock: which timer aborts
 * the attempt's controller, with which code, message and limit; chunks end the first-token timer and
 * restart the idle one; clear() leaves nothing pending.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ModelTimeouts } from '../../src/config/resolve.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { GuardError } from '../../src/core/errors.ts';
import { AttemptTimers, abortPromise } from '../../src/runtime/stream-timeouts.ts';

class FakeClock implements Clock {
  t = 0;
  private next = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.t || !this.timers.has(id)) continue;
      this.timers.delete(id);
      timer.fn();
    }
  }
}

const timeouts = { firstTokenMs: 300, idleMs: 100 } as ModelTimeouts;

function start(streaming: boolean, totalMs = 1000) {
  const clock = new FakeClock();
  const controller = new AbortController();
  const timers = new AttemptTimers(clock, controller, timeouts, { streaming, totalMs });
  const reason = () => {
    const e = controller.signal.reason as GuardError | undefined;
    return e && [e.code, e.message, e.details];
  };
  return { clock, controller, timers, reason };
}

describe('AttemptTimers', () => {
  it('a call that is not streamed has only the total timer', () => {
    const { clock, reason } = start(false);
    expect(clock.timers.size).toBe(1);
    clock.advance(999);
    expect(reason()).toBeUndefined();
    clock.advance(1);
    expect(reason()).toEqual(['timeout.total', 'model call exceeded its total timeout of 1000 ms', { limit: 1000 }]);
  });
  it('a stream with no first chunk in time aborts with timeout.first_token', () => {
    const { clock, reason } = start(true);
    expect(clock.timers.size).toBe(2);
    clock.advance(300);
    expect(reason()).toEqual(['timeout.first_token', 'model call exceeded its first-token timeout of 300 ms', { limit: 300 }]);
  });
  it('chunks end the first-token timer and restart the idle timer, which fires after the last gap', () => {
    const { clock, timers, reason } = start(true);
    clock.advance(200);
    timers.chunk();
    expect(clock.timers.size).toBe(2); // total + idle
    clock.advance(90);
    timers.chunk();
    expect(clock.timers.size).toBe(2);
    clock.advance(90);
    timers.chunk();
    clock.advance(99);
    expect(reason()).toBeUndefined();
    clock.advance(1);
    expect(reason()).toEqual(['timeout.idle', 'model call exceeded its idle timeout of 100 ms', { limit: 100 }]);
  });
  it('clear() leaves no timer pending', () => {
    const { clock, timers, reason } = start(true);
    timers.chunk();
    timers.clear();
    expect(clock.timers.size).toBe(0);
    clock.advance(10_000);
    expect(reason()).toBeUndefined();
  });
});

describe('abortPromise', () => {
  it('rejects at once with the reason of a signal already aborted', async () => {
    const { promise } = abortPromise(AbortSignal.abort('gone'));
    await expect(promise).rejects.toBe('gone');
  });
  it('rejects with the reason when the signal aborts, and its listener goes with it', async () => {
    const c = new AbortController();
    const { promise } = abortPromise(c.signal);
    expect(getEventListeners(c.signal, 'abort').length).toBe(1);
    c.abort('stop');
    await expect(promise).rejects.toBe('stop');
    expect(getEventListeners(c.signal, 'abort').length).toBe(0);
  });
  it('dispose() unlinks the signal', () => {
    const c = new AbortController();
    const { dispose } = abortPromise(c.signal);
    dispose();
    expect(getEventListeners(c.signal, 'abort').length).toBe(0);
  });
});
