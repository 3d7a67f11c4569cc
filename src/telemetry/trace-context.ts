import { createRequire } from 'node:module';

/**
 * W3C trace-context propagation through the gateway, with no cost and no dependency when tracing is
 * not set up. `@opentelemetry/api` is an optional peer: it is required the first time a request
 * arrives; when it is not installed, or no OpenTelemetry SDK registered a propagator, both functions
 * below do nothing but call through. With an SDK registered (see `fmguard/otel`), an incoming
 * `traceparent` is continued: runs, model calls and tool calls made for the request join the
 * caller's trace, and the upstream model and tool requests carry it on.
 */
type OtelApi = typeof import('@opentelemetry/api');
type Headers = Record<string, string | string[] | undefined>;

const require = createRequire(import.meta.url);
let api: OtelApi | null | undefined;

function otel(): OtelApi | null {
  if (api === undefined) {
    try {
      api = require('@opentelemetry/api') as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

const getter = {
  keys: (carrier: Headers) => Object.keys(carrier),
  get(carrier: Headers, key: string) {
    const value = carrier[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
};

/** Run `work` inside the trace context an incoming request carries (or just run it). */
export function withIncomingTrace<T>(headers: Headers, work: () => T): T {
  const o = otel();
  if (!o || o.propagation.fields().length === 0) return work();
  return o.context.with(o.propagation.extract(o.ROOT_CONTEXT, headers, getter), work);
}

/** `headers` plus the active trace context for an upstream request: the same object when there is none. */
export function withTraceHeaders<H extends Record<string, string>>(headers: H): H {
  const o = otel();
  if (!o || o.propagation.fields().length === 0 || o.trace.getSpanContext(o.context.active()) === undefined) return headers;
  const out = { ...headers };
  o.propagation.inject(o.context.active(), out);
  return out;
}
