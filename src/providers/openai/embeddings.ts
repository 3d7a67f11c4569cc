import type { Clock } from '../../core/clock.ts';
import { type EmbeddingsRequest, type EmbeddingsResponse, isEmbeddingsResponse } from '../../core/wire/embeddings.ts';
import { discard, type Upstream } from '../http.ts';
import { ProviderError, type ProviderCallOptions } from '../provider.ts';
import { errorFromEvent, errorFromResponse, parseJson } from '../upstream-error.ts';

/** `POST /embeddings` on an OpenAI-compatible upstream; the response as it came (floats or base64). */
export function createEmbed(upstream: Upstream, clock: Clock) {
  return async function embed(req: EmbeddingsRequest, { signal }: ProviderCallOptions): Promise<EmbeddingsResponse> {
    const res = await upstream.post('/embeddings', JSON.stringify(req), signal);
    try {
      if (res.status < 200 || res.status >= 300) throw await errorFromResponse(upstream, res, clock.now());
      const json = parseJson(await res.body.text(), upstream.name);
      if (!isEmbeddingsResponse(json)) {
        if (json && typeof json === 'object' && 'error' in json) throw errorFromEvent(upstream, json);
        throw new ProviderError(`${upstream.name}: the upstream embeddings response has no data or usage`, { status: 502 });
      }
      return json;
    } catch (error) {
      discard(res.body);
      throw upstream.failure(error, signal);
    }
  };
}
