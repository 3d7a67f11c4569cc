import { sleep, systemClock, type Clock } from '../core/clock.ts';

export interface WebhookRequest {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  /** Per attempt, covering connect, response and body; default 5 s. */
  timeoutMs?: number;
  /** Attempts after the first; default 2. */
  retries?: number;
  /** Wait before retry n is retryDelayMs × 2^(n-1); default 500 ms. */
  retryDelayMs?: number;
  clock?: Clock;
  fetch?: typeof globalThis.fetch;
  /** Aborts the whole delivery (engine stop). */
  signal?: AbortSignal;
}

export type WebhookResult = { ok: true; status: number; attempts: number } | { ok: false; attempts: number; status?: number; error: string };

/** Whether a failed attempt is worth repeating: network errors, timeouts, 408, 429 and 5xx. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * POST a JSON body with a bounded time per attempt and a bounded number of attempts. Never
 * rejects: the result says what happened, for the audit log.
 */
export async function postWebhook({
  url,
  body,
  headers = {},
  timeoutMs = 5_000,
  retries = 2,
  retryDelayMs = 500,
  clock = systemClock,
  fetch: fetchImpl = globalThis.fetch,
  signal,
}: WebhookRequest): Promise<WebhookResult> {
  const payload = JSON.stringify(body);
  let attempts = 0;
  let last: { status?: number; error: string } = { error: 'not sent' };
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      try {
        await sleep(clock, retryDelayMs * 2 ** (attempt - 1), signal);
      } catch {
        break;
      }
    }
    if (signal?.aborted) break;
    attempts++;
    const attemptSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
        signal: attemptSignal,
      });
      // Drain the body so the connection is released; bounded by the same signal.
      await response.arrayBuffer();
      if (response.ok) return { ok: true, status: response.status, attempts };
      last = { status: response.status, error: `HTTP ${response.status}` };
      if (!retryable(response.status)) break;
    } catch (error) {
      const name = (error as { name?: string })?.name;
      last = {
        error: name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : name === 'AbortError' ? 'aborted' : String((error as Error)?.message ?? error),
      };
    }
  }
  return { ok: false, attempts, ...last };
}
