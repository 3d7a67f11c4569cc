import type { ServerResponse } from 'node:http';

/** Response headers of an SSE stream (`x-accel-buffering`: proxies such as nginx must not buffer it). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export const DONE_EVENT = 'data: [DONE]\n\n';

/**
 * Writes `data:` events, coalescing those produced in the same tick into one socket write: an
 * upstream that delivers several chunks in one packet costs one syscall downstream, not one per
 * chunk. Nothing waits: the flush is a nextTick, which runs as soon as the current burst of
 * microtasks (the stream's iteration) yields, so time to first token is unchanged.
 */
export class SseWriter {
  private readonly res: ServerResponse;
  private corked = false;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  /** False when the socket buffer is full (wait for `drained`). */
  write(json: string): boolean {
    return this.frame(`data: ${json}\n\n`);
  }

  /** Whole SSE frames as written (named events: `event: x\ndata: …\n\n`); false when the socket buffer is full. */
  frame(text: string): boolean {
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.flush);
    }
    return this.res.write(text);
  }

  private readonly flush = (): void => {
    this.corked = false;
    // end() uncorks fully; after it the socket may already serve the connection's next response.
    if (!this.res.writableEnded) this.res.uncork();
  };
}

/** Resolves when the socket takes more data, the client goes away, or `signal` aborts. */
export function drained(res: ServerResponse, signal?: AbortSignal): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
