import type { Dispatcher } from 'undici';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/chat.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { discard, Upstream, type HttpModelProvider } from '../http.ts';
import { ProviderError, type ProviderCallOptions } from '../provider.ts';
import { sseEvents } from '../sse.ts';
import { errorFromEvent, errorFromResponse, parseJson } from '../upstream-error.ts';
import { createEmbed } from './embeddings.ts';
import { isEventStream, notAStream } from './event-stream.ts';
import { createResponsesPassthrough } from './responses.ts';

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
  /** The upstream serves the Responses API (`POST /responses`): `/v1/responses` requests are passed through. Default false. */
  responses?: boolean;
}

/**
 * Any OpenAI-compatible Chat Completions upstream: OpenAI, vLLM, Ollama, LiteLLM, the sim server. It
 * also serves embeddings (`POST /embeddings`) and, when `responses` is set, passes Responses API
 * requests through (`POST /responses`).
 */
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
      if (!isEventStream(res)) throw await notAStream(upstream, res);
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

  return {
    name,
    complete,
    stream,
    embed: createEmbed(upstream, clock),
    ...(options.responses ? { responses: createResponsesPassthrough(upstream, clock) } : {}),
    close: () => upstream.close(),
  };
}

/** `stream: true`, and usage asked for in the stream (the runtime settles on it). */
function streamingRequest(req: ChatRequest): ChatRequest {
  if (req.stream === true && req.stream_options?.include_usage === true) return req;
  return { ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } };
}
