import { sleep, type Clock } from '../../core/clock.ts';

/**
 * Waits that observe the call's signal. A wait of 0 ms sets no timer at all (benchmarks run the sim at
 * zero latency), but still notices an abort that already happened.
 */
export async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(clock, ms, signal);
  else signal.throwIfAborted();
}

/** Never resolves; rejects with the signal's reason when it aborts (the stall scenarios). */
export function waitForever(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
