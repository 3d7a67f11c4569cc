import type { Dispatcher } from 'undici';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/chat.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { discard, readCapped, Upstream, type HttpModelProvider, type UpstreamResponse } from '../http.ts';
import { ProviderError, type ProviderCallOptions } from '../provider.ts';
import { sseEvents } from '../sse.ts';
import { errorFromEvent, errorFromResponse, parseJson, errorInfo } from '../upstream-error.ts';

export type { HttpModelProvider } from '../http.ts';

export interface OpenAIProviderOptions {
  name: string;
  /** Up to and including the version path, e.g. https://api.openai.com/v1 or http://localhost:11434/v1. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Extra headers on every request (e.g. OpenAI-Organization, a proxy's auth). */
  headers?: Record<string, string>;
  /** Use this undici dispatcher instead of a private keep-alive pool (the caller closes it). */
  dispatcher?: Dispatcher;
  /** For `retry-after` given as an HTTP date. */
  clock?: Clock;
}

/** Any OpenAI-compatible Chat Completions upstream: OpenAI, vLLM, Ollama, LiteLLM, the sim server. */
export function createOpenAIProvider(options: OpenAIProviderOptions): HttpModelProvider {
  const { name, apiKey, headers = {}, clock = systemClock } = options;
  const upstream = new Upstream({
    name,
    baseUrl: options.baseUrl,
    headers: apiKey ? { ...headers, authorization: `Bearer ${apiKey}` } : headers,
    dispatcher: options.dispatcher,
    secrets: [...(apiKey ? [apiKey] : []), ...Object.values(headers)],
  });

  async function complete(req: ChatRequest, { signal }: ProviderCallOptions): Promise<ChatResponse> {
    const payload = JSON.stringify(req.stream || req.stream_options ? { ...req, stream: false, stream_options: undefined } : req);
    const res = await upstream.post('/chat/completions', payload, signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      const json = parseJson(await res.body.text(), name);
      if (!json || typeof json !== 'object' || !Array.isArray((json as ChatResponse).choices)) {
        // Some proxies answer 200 with an error body.
        if (json && typeof json === 'object' && 'error' in json) throw errorFromEvent(upstream, json);
        throw new ProviderError(`${name}: the upstream response has no choices`, { status: 502 });
      }
      return json as ChatResponse;
    } catch (error) {
      discard(res.body);
      throw upstream.failure(error, signal);
    }
  }

  async function* stream(req: ChatRequest, { signal }: ProviderCallOptions): AsyncGenerator<ChatChunk, void, undefined> {
    const payload = JSON.stringify(streamingRequest(req));
    const res = await upstream.post('/chat/completions', payload, signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      if (!isEventStream(res)) throw await notAStream(res);
      let done = false;
      for await (const event of sseEvents(res.body)) {
        // After [DONE] the body is read to its end, so the socket goes back to the pool.
        if (done || !event.data) continue;
        if (event.data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = parseJson(event.data, name) as ChatChunk & { error?: unknown };
        if (!chunk || typeof chunk !== 'object') throw new ProviderError(`${name}: the upstream sent an event that is not a JSON object`, { status: 502 });
        if (chunk.error !== undefined || event.event === 'error') throw errorFromEvent(upstream, chunk);
        yield chunk;
      }
    } catch (error) {
      throw upstream.failure(error, signal);
    } finally {
      discard(res.body);
    }
  }

  /** A 200 that is not SSE: an error body in disguise, or an upstream that ignored `stream`. */
  async function notAStream(res: UpstreamResponse): Promise<ProviderError> {
    const text = await readCapped(res.body, 16 * 1024);
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    if (errorInfo(payload).message !== undefined) return errorFromEvent(upstream, payload);
    return new ProviderError(`${name}: the upstream answered a streaming request without an event stream`, { status: 502 });
  }

  return { name, complete, stream, close: () => upstream.close() };
}

/** `stream: true`, and usage asked for in the stream (the runtime settles on it). */
function streamingRequest(req: ChatRequest): ChatRequest {
  if (req.stream === true && req.stream_options?.include_usage === true) return req;
  return { ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } };
}

function isEventStream(res: UpstreamResponse): boolean {
  const type = res.headers['content-type'];
  const value = Array.isArray(type) ? type[0] : type;
  // A missing content type is read as SSE; only an explicit other type is suspicious.
  return value === undefined || value.includes('text/event-stream');
}
