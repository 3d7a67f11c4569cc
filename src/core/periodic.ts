/** A task run every `everyMs` on an unref'd timer, one at a time, and on demand. */
export interface Periodic<T> {
  /** Run the task now, once the run a tick started (if any) has finished. */
  runNow(): Promise<T>;
  /** Start ticking (a second call does nothing). */
  start(): void;
  /** Stop ticking; resolves once the run a tick started (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Single-flight periodic work (the retention pruners): a tick while the previous tick's run is still
 * going is skipped rather than started beside it, a tick's failure goes to `onError`, and the timer
 * never keeps the process alive.
 */
export function periodic<T>(task: () => Promise<T>, everyMs: number, onError: (error: unknown) => void): Periodic<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  return {
    runNow: async () => {
      await running;
      return task();
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = task()
          .catch(onError)
          .finally(() => {
            running = undefined;
          });
      }, everyMs);
      timer.unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
