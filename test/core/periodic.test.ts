import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { periodic } from '../../src/core/periodic.ts';

/** A task whose runs finish only when the test says so. */
function gatedTask() {
  const runs: Array<{ resolve: (value: number) => void; reject: (error: unknown) => void }> = [];
  const task = () =>
    new Promise<number>((resolve, reject) => {
      runs.push({ resolve, reject });
    });
  return { task, runs };
}

/** Lets settled promises' callbacks run (the fake timers leave setImmediate real). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('periodic (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one at a time: a tick while a run is going starts none', async () => {
    const { task, runs } = gatedTask();
    const runner = periodic(task, 1000, () => {});
    runner.start();
    runner.start();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(runs).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(runs).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    expect(runs).toHaveLength(1);
    runs[0]!.resolve(1);
    await settle();
    vi.advanceTimersByTime(1000);
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(2);
    await runner.stop();
  });

  it('stop ends the ticks and waits for the run in flight', async () => {
    const { task, runs } = gatedTask();
    const runner = periodic(task, 1000, () => {});
    runner.start();
    vi.advanceTimersByTime(1000);
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    expect(vi.getTimerCount()).toBe(0);
    await settle();
    expect(stopped).toBe(false);
    runs[0]!.resolve(1);
    await stopping;
    expect(stopped).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(runs).toHaveLength(1);
  });

  it('runNow waits for the run in flight, then runs and returns its result', async () => {
    const { task, runs } = gatedTask();
    const runner = periodic(task, 1000, () => {});
    runner.start();
    vi.advanceTimersByTime(1000);
    const now = runner.runNow();
    await settle();
    expect(runs).toHaveLength(1);
    runs[0]!.resolve(1);
    await settle();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(42);
    expect(await now).toBe(42);
    await runner.stop();
  });

  it("a tick's failure goes to onError and the next tick runs", async () => {
    const { task, runs } = gatedTask();
    const errors: unknown[] = [];
    const runner = periodic(task, 1000, (error) => errors.push(error));
    runner.start();
    vi.advanceTimersByTime(1000);
    const boom = new Error('boom');
    runs[0]!.reject(boom);
    await settle();
    expect(errors).toEqual([boom]);
    vi.advanceTimersByTime(1000);
    expect(runs).toHaveLength(2);
    runs[1]!.resolve(1);
    await runner.stop();
  });

  it('a stopped runner starts again', async () => {
    const { task, runs } = gatedTask();
    const runner = periodic(task, 1000, () => {});
    runner.start();
    await runner.stop();
    vi.advanceTimersByTime(1000);
    expect(runs).toHaveLength(0);
    runner.start();
    vi.advanceTimersByTime(1000);
    expect(runs).toHaveLength(1);
    runs[0]!.resolve(1);
    await runner.stop();
  });
});

describe('periodic (real timers)', () => {
  it('its timer does not keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    try {
      const runner = periodic(
        async () => 0,
        60_000,
        () => {},
      );
      runner.start();
      const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      void runner.stop();
    } finally {
      spy.mockRestore();
    }
  });
});
