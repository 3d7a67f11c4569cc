import { readCapped, type Upstream, type UpstreamResponse } from '../http.ts';
import { ProviderError } from '../provider.ts';
import { errorFromEvent, errorInfo } from '../upstream-error.ts';

export function isEventStream(res: UpstreamResponse): boolean {
  const type = res.headers['content-type'];
  const value = Array.isArray(type) ? type[0] : type;
  // A missing content type is read as SSE; only an explicit other type is suspicious.
  return value === undefined || value.includes('text/event-stream');
}

/** A 200 that is not SSE: an error body in disguise, or an upstream that ignored `stream`. */
export async function notAStream(upstream: Upstream, res: UpstreamResponse): Promise<ProviderError> {
  const text = await readCapped(res.body, 16 * 1024);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    payload = undefined;
  }
  if (errorInfo(payload).message !== undefined) return errorFromEvent(upstream, payload);
  return new ProviderError(`${upstream.name}: the upstream answered a streaming request without an event stream`, { status: 502 });
}
