import type { ServerResponse } from 'node:http';

/**
 * Whether the client is still there. No AbortController per request: on this Node an
 * AbortSignal costs ~5 µs to create and AbortSignal.any (what passing a signal into a guarded call
 * costs) ~50 µs, a third of the gateway's latency budget. Instead the handler sets `onGone` around
 * the one await that needs it, and a stream simply stops reading (the runtime then aborts upstream).
 */
export class ClientLink {
  gone = false;
  /** Called once if the client leaves before the response is complete. */
  onGone: (() => void) | undefined;

  constructor(res: ServerResponse) {
    res.once('close', () => {
      if (res.writableFinished) return;
      this.gone = true;
      const fn = this.onGone;
      this.onGone = undefined;
      fn?.();
    });
  }
}
