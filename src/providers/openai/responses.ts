import type { Clock } from '../../core/clock.ts';
import { discard, type Upstream } from '../http.ts';
import { ProviderError, type ProviderCallOptions, type ResponsesPassthrough } from '../provider.ts';
import { sseEvents } from '../sse.ts';
import { errorFromEvent, errorFromResponse, parseJson } from '../upstream-error.ts';
import { isEventStream, notAStream } from './event-stream.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error a Responses object or event reports: `error` events, `response.failed`, an error body. */
function reportedError(payload: Json): Json | undefined {
  if (payload.type === 'error') return { error: isObject(payload.error) ? payload.error : { message: payload.message, code: payload.code } };
  if (payload.type === 'response.failed' || (isObject(payload.response) && payload.response.status === 'failed')) {
    const response = isObject(payload.response) ? payload.response : {};
    return { error: isObject(response.error) ? response.error : { message: 'the upstream response failed' } };
  }
  if (payload.status === 'failed') return { error: isObject(payload.error) ? payload.error : { message: 'the upstream response failed' } };
  if (isObject(payload.error) && payload.object !== 'response') return payload;
  return undefined;
}

/**
 * `POST /responses` on an upstream that serves the OpenAI Responses API: the body goes as the runtime
 * prepared it, the response object and stream events come back as they are. A failed response, an
 * `error` event or a `response.failed` event is a ProviderError (the runtime maps it to a stop code).
 */
export function createResponsesPassthrough(upstream: Upstream, clock: Clock): ResponsesPassthrough {
  const name = upstream.name;

  async function create(body: Json, { signal }: ProviderCallOptions): Promise<Json> {
    const res = await upstream.post('/responses', JSON.stringify(body), signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      const json = parseJson(await res.body.text(), name);
      if (!isObject(json)) throw new ProviderError(`${name}: the upstream response is not a JSON object`, { status: 502 });
      const failed = reportedError(json);
      if (failed) throw errorFromEvent(upstream, failed);
      if (!Array.isArray(json.output)) throw new ProviderError(`${name}: the upstream response has no output`, { status: 502 });
      return json;
    } catch (error) {
      discard(res.body);
      throw upstream.failure(error, signal);
    }
  }

  async function* stream(body: Json, { signal }: ProviderCallOptions): AsyncGenerator<Json, void, undefined> {
    const res = await upstream.post('/responses', JSON.stringify(body), signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      if (!isEventStream(res)) throw await notAStream(upstream, res);
      for await (const event of sseEvents(res.body)) {
        if (!event.data || event.data === '[DONE]') continue;
        const payload = parseJson(event.data, name);
        if (!isObject(payload)) throw new ProviderError(`${name}: the upstream sent an event that is not a JSON object`, { status: 502 });
        const failed = reportedError(payload);
        if (failed) throw errorFromEvent(upstream, failed);
        yield payload;
      }
    } catch (error) {
      throw upstream.failure(error, signal);
    } finally {
      discard(res.body);
    }
  }

  return { create, stream };
}
