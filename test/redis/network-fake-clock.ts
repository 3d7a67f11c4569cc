/**
 * FakeClock (src/testing/fake-clock.ts) for code that awaits network I/O: identical, except that
 * where the original lets queued promise callbacks run, this one also waits until every store call
 * in flight (counted by `tracked`) has answered, as an in-process store would have by then.
 */
import type { ApprovalStore } from '../../src/store/approvals.ts';
import type { Clock } from '../../src/core/clock.ts';

let inflight = 0;

/** The same store, with its calls counted so the fake clock can wait for them. */
export function tracked(store: ApprovalStore): ApprovalStore {
  const count =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      inflight++;
      try {
        return await fn(...args);
      } finally {
        inflight--;
      }
    };
  return {
    kind: store.kind,
    check: count(store.check.bind(store)),
    get: count(store.get.bind(store)),
    decide: count(store.decide.bind(store)),
    list: count(store.list.bind(store)),
    subscribe: store.subscribe.bind(store),
    close: store.close.bind(store),
  };
}

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export async function flushMicrotasks(rounds = 2): Promise<void> {
  for (;;) {
    for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    if (inflight === 0) return;
    while (inflight > 0) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

export class FakeClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  set(ms: number): void {
    this.current = ms;
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }
}

export const fakeClockModule = { FakeClock, flushMicrotasks };
