import type { Clock } from '../core/clock.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export interface FakeClockOptions {
  /**
   * What `advance` waits for between timers. Default: queued promise callbacks (and I/O already
   * due), which is enough for code that answers in process. Code that awaits network round trips
   * (a Redis store) passes a wait that also covers its calls in flight.
   */
  settle?: () => Promise<void>;
}

/**
 * A clock that moves only when told. `advance` fires due timers in time order and lets promise
 * callbacks run between them, so code awaiting `sleep` progresses as it would in real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private readonly settle: () => Promise<void>;

  constructor(start = Date.UTC(2026, 0, 1), { settle = () => flushMicrotasks() }: FakeClockOptions = {}) {
    this.current = start;
    this.settle = settle;
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

  /** Pending timers, for assertions. */
  get pending(): number {
    return this.timers.length;
  }

  /** Set the time without firing timers (for pure-core tests). */
  set(ms: number): void {
    this.current = ms;
  }

  /** Move forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await this.settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
      await this.settle();
    }
    this.current = target;
    await this.settle();
  }
}

/** Let every queued promise callback (and I/O callback already due) run. */
export async function flushMicrotasks(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
