/**
 * For FakeClock (src/testing/fake-clock.ts) driving code that awaits network I/O: its advance()
 * lets queued promise callbacks run between timers, which is enough for a store that answers in
 * process; with a Redis store it must also wait until every store call in flight (counted by
 * `tracked`) has answered, as an in-process store would have by then. Pass `flushWithStoreCalls`
 * as the clock's `settle`.
 */
import type { ApprovalStore } from '../../src/store/approvals.ts';
import { flushMicrotasks } from '../../src/testing/fake-clock.ts';

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

/** Queued callbacks, then every tracked store call in flight, until both are done. */
export async function flushWithStoreCalls(): Promise<void> {
  for (;;) {
    await flushMicrotasks();
    if (inflight === 0) return;
    while (inflight > 0) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}
