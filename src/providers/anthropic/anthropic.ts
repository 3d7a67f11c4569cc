import type { Dispatcher } from 'undici';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/chat.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { AnthropicStreamTranslator } from './stream.ts';
import { fromAnthropicMessage, toAnthropicRequest } from './translate.ts';
import type { AnthropicMessage } from './types.ts';
import { discard, Upstream, type HttpModelProvider } from '../http.ts';
import { ProviderError, type ProviderCallOptions } from '../provider.ts';
import { sseEvents } from '../sse.ts';
import { errorFromEvent, errorFromResponse, parseJson } from '../upstream-error.ts';

export interface AnthropicProviderOptions {
  name: string;
  /** Default https://api.anthropic.com (a trailing /v1 is accepted too). */
  baseUrl?: string;
  /** Sent as `x-api-key`; leave out when a proxy adds it. */
  apiKey?: string;
  /** `anthropic-version`. Default 2023-06-01. */
  version?: string;
  /** Use this undici dispatcher instead of a private keep-alive pool (the caller closes it). */
  dispatcher?: Dispatcher;
  /** For `created` timestamps and `retry-after` given as an HTTP date. */
  clock?: Clock;
}

/** The Anthropic Messages API behind the OpenAI Chat Completions shapes, streaming and tool use included. */
export function createAnthropicProvider(options: AnthropicProviderOptions): HttpModelProvider {
  const { name, apiKey, version = '2023-06-01', clock = systemClock } = options;
  const baseUrl = options.baseUrl ?? 'https://api.anthropic.com';
  const path = new URL(baseUrl).pathname.replace(/\/+$/, '').endsWith('/v1') ? '/messages' : '/v1/messages';
  const upstream = new Upstream({
    name,
    baseUrl,
    headers: { 'anthropic-version': version, ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    dispatcher: options.dispatcher,
    secrets: apiKey ? [apiKey] : [],
  });

  async function complete(req: ChatRequest, { signal }: ProviderCallOptions): Promise<ChatResponse> {
    signal.throwIfAborted();
    const payload = JSON.stringify(toAnthropicRequest(req, false));
    const res = await upstream.post(path, payload, signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      const json = parseJson(await res.body.text(), name) as { type?: unknown; content?: unknown } | null;
      if (json?.type === 'error') throw errorFromEvent(upstream, json);
      if (!json || typeof json !== 'object' || !Array.isArray(json.content)) {
        throw new ProviderError(`${name}: the upstream response is not a message`, { status: 502 });
      }
      return fromAnthropicMessage(json as AnthropicMessage, Math.floor(clock.now() / 1000));
    } catch (error) {
      discard(res.body);
      throw upstream.failure(error, signal);
    }
  }

  async function* stream(req: ChatRequest, { signal }: ProviderCallOptions): AsyncGenerator<ChatChunk, void, undefined> {
    signal.throwIfAborted();
    const payload = JSON.stringify(toAnthropicRequest(req, true));
    const res = await upstream.post(path, payload, signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      const translator = new AnthropicStreamTranslator(Math.floor(clock.now() / 1000), req.model);
      for await (const event of sseEvents(res.body)) {
        // After message_stop the body is read to its end, so the socket goes back to the pool.
        if (translator.done || !event.data) continue;
        const data = parseJson(event.data, name) as Record<string, unknown>;
        if (!data || typeof data !== 'object') throw new ProviderError(`${name}: the upstream sent an event that is not a JSON object`, { status: 502 });
        if (data.type === 'error' || event.event === 'error') throw errorFromEvent(upstream, data);
        const chunk = translator.next(data);
        if (chunk) yield chunk;
      }
      if (!translator.done) throw new ProviderError(`${name}: the upstream stream ended before message_stop`, { status: 502 });
    } catch (error) {
      throw upstream.failure(error, signal);
    } finally {
      discard(res.body);
    }
  }

  return { name, complete, stream, close: () => upstream.close() };
}
