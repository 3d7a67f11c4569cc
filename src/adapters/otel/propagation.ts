import { context, propagation, ROOT_CONTEXT, trace, type Context, type TextMapGetter } from '@opentelemetry/api';

/** Node's incoming headers (lower-case names; a repeated header is an array). */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

const getter: TextMapGetter<IncomingHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * The trace context an incoming request carries (W3C `traceparent` / `tracestate` with the SDK's
 * default propagator; whatever `OTEL_PROPAGATORS` selects otherwise). Without a registered SDK the
 * API's propagator is a no-op and this is the root context.
 */
export function extractTraceContext(headers: IncomingHeaders, parent: Context = ROOT_CONTEXT): Context {
  return propagation.extract(parent, headers, getter);
}

/** Run `work` inside the request's trace context: runs started in it continue the caller's trace (the gateway does this for every request). */
export { withIncomingTrace } from '../../telemetry/trace-context.ts';

/**
 * Add the active (or given) trace context to the headers of an upstream request, so the provider's
 * or tool server's spans join the same trace. Returns the headers, mutated.
 */
export function injectTraceContext<H extends Record<string, string>>(headers: H, from: Context = context.active()): H {
  propagation.inject(from, headers);
  return headers;
}

/**
 * `headers` with the active trace context added, for a hot path: the same object, untouched, when no
 * propagator is registered (no SDK) or there is no trace to continue; a copy with it otherwise.
 */
export function withTraceHeaders<H extends Record<string, string>>(headers: H, from: Context = context.active()): H {
  if (propagation.fields().length === 0 || trace.getSpanContext(from) === undefined) return headers;
  return injectTraceContext({ ...headers }, from);
}
