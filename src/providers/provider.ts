import type { ChatChunk, ChatRequest, ChatResponse } from '../core/chat.ts';

export interface ProviderCallOptions {
  /** Aborting it must stop the upstream work (close the socket, stop generating). */
  signal: AbortSignal;
}

/**
 * A model provider translates an OpenAI-shaped request to its upstream and back. It reports usage in
 * the response (non-streaming) or in a final chunk (streaming). It throws `ProviderError` for upstream
 * failures; the runtime maps those to stop codes and decides about retries.
 */
export interface ModelProvider {
  readonly name: string;
  complete(req: ChatRequest, opts: ProviderCallOptions): Promise<ChatResponse>;
  stream(req: ChatRequest, opts: ProviderCallOptions): AsyncIterable<ChatChunk>;
}

/** An upstream failure: HTTP-ish status, and the provider's retry-after when it gave one. */
export class ProviderError extends Error {
  readonly status: number;
  readonly retryAfterMs?: number;

  constructor(message: string, { status = 502, retryAfterMs }: { status?: number; retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'ProviderError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}
