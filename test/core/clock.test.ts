import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

describe('sleep', () => {
  it('resolves once the clock has moved by ms, not before', async () => {
    const clock = new FakeClock();
    let done = false;
    const slept = sleep(clock, 1000).then(() => {
      done = true;
    });
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await slept;
    expect(done).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('treats a negative wait as none', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    let done = false;
    const slept = sleep(clock, -50).then(() => {
      done = true;
    });
    await clock.advance(0);
    await slept;
    expect(done).toBe(true);
    expect(clock.now()).toBe(start);
  });

  it('rejects at once with the reason of a signal that has already aborted, starting no timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error('run killed');
    controller.abort(reason);
    const slept = sleep(clock, 1000, controller.signal);
    expect(clock.pending).toBe(0);
    await expect(slept).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the reason when the signal aborts during the wait, and cancels its timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const slept = sleep(clock, 1000, controller.signal);
    const outcome = slept.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await clock.advance(400);
    expect(clock.pending).toBe(1);
    const reason = new Error('kill.switch');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(clock.pending).toBe(0);
  });

  it('leaves no listener on the signal, whether the wait ends or is aborted (a run signal outlives many sleeps)', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const { signal } = controller;
    for (let i = 0; i < 3; i++) {
      const slept = sleep(clock, 100, signal);
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      await clock.advance(100);
      await slept;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    }
    const aborted = sleep(clock, 100, signal).catch((error: unknown) => error);
    controller.abort(new Error('stop'));
    expect(((await aborted) as Error).message).toBe('stop');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
