/**
 * OpenTelemetry traces of a guard (`@opentelemetry/api` is an optional peer dependency): spans per
 * run, model call and tool call with the GenAI semantic conventions, and W3C trace-context helpers for
 * the gateway. See examples/otel-traces.ts.
 */
export { instrumentGuard, type GuardTracing, type GuardTracingOptions } from './tracing.ts';
export { extractTraceContext, injectTraceContext, withIncomingTrace, withTraceHeaders, type IncomingHeaders } from './propagation.ts';
export { ERROR_TYPE, FMGUARD, GEN_AI, OPERATION } from './attributes.ts';
