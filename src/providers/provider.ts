import type { ChatChunk, ChatRequest, ChatResponse } from '../core/chat.ts';
import type { StopCode } from '../core/codes.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../core/wire/embeddings.ts';

/** What a provider learned about the upstream call itself (for the audit), success or failure. */
export interface UpstreamMeta {
  /** The upstream's own id for the request (AWS `x-amzn-requestid`, …). */
  requestId?: string;
}

export interface ProviderCallOptions {
  /** Aborting it must stop the upstream work (close the socket, stop generating). */
  signal: AbortSignal;
  /** Called when the provider learns the upstream's request id (optional to call and to pass). */
  onUpstreamMeta?: (meta: UpstreamMeta) => void;
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
  /** Optional: an upstream that serves the OpenAI Responses API gets `/v1/responses` requests passed through. */
  readonly responses?: ResponsesPassthrough;
  /** Optional: embeddings (`/v1/embeddings`); a provider without it refuses embedding calls with `request.invalid`. */
  embed?(req: EmbeddingsRequest, opts: ProviderCallOptions): Promise<EmbeddingsResponse>;
}

/**
 * A Responses API request passed through as the agent sent it (the runtime sets `model`, the clamped
 * `max_output_tokens`, `stream` and `store: false`). The provider returns the upstream's response
 * object and events as they came; failures (an `error` or `response.failed` event included) are
 * thrown as `ProviderError`, like the chat calls'.
 */
export interface ResponsesPassthrough {
  create(body: Record<string, unknown>, opts: ProviderCallOptions): Promise<Record<string, unknown>>;
  stream(body: Record<string, unknown>, opts: ProviderCallOptions): AsyncIterable<Record<string, unknown>>;
}

/**
 * An upstream failure: HTTP-ish status, and the provider's retry-after when it gave one. `code` is set
 * when the provider knows the catalogue code better than the status does (a throttle: `rate.limited`).
 */
export class ProviderError extends Error {
  readonly status: number;
  readonly retryAfterMs?: number;
  readonly code?: StopCode;

  constructor(message: string, { status = 502, retryAfterMs, code }: { status?: number; retryAfterMs?: number; code?: StopCode } = {}) {
    super(message);
    this.name = 'ProviderError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    if (code !== undefined) this.code = code;
  }
}
