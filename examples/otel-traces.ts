/**
 * fmguard's OpenTelemetry traces: `instrumentGuard(guard)` turns every decision into spans with the
 * GenAI semantic conventions — a run, its sub-run, model calls (one retried, one served by a fallback),
 * tool calls, a refusal and a kill.
 *
 *   npx tsx examples/otel-traces.ts                      prints the span tree
 *   OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
 *   OTEL_SERVICE_NAME=my-agent npx tsx examples/otel-traces.ts     exports them (any OTEL_* setting)
 *
 * With `OTEL_TRACES_EXPORTER` set, the OpenTelemetry Node SDK is started as usual, configured by the
 * standard `OTEL_*` environment variables; fmguard only uses `@opentelemetry/api`.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createGuard, type ConfigInput } from 'fmguard';
import { instrumentGuard } from 'fmguard/otel';

const config: ConfigInput = {
  store: { kind: 'memory' },
  providers: { sim: { kind: 'simulated' } },
  models: {
    'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, fallbacks: ['sim-large'] },
    'sim-large': { provider: 'sim', inputPerMTok: 2.5, outputPerMTok: 10 },
  },
  toolServers: { demo: { kind: 'builtin' } },
  tenants: { acme: {} },
  agents: {
    planner: {
      tenant: 'acme',
      allow: { models: ['*'], tools: ['demo.search'] },
      retry: [{ errorEquals: ['upstream.error'], intervalMs: 10, maxAttempts: 2 }],
      // The researcher's runs may be sub-runs of the planner's.
      delegatesTo: ['researcher'],
    },
    researcher: { tenant: 'acme', allow: { models: ['*'], tools: ['demo.search'] } },
  },
};

const exporting = process.env.OTEL_TRACES_EXPORTER !== undefined;
const sdk = exporting ? new NodeSDK() : undefined;
sdk?.start();
const memory = new InMemorySpanExporter();
const local = exporting ? undefined : new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });

const guard = createGuard({ config });
// Off by default; one line turns it on. Without `tracer`, the global tracer provider (the SDK's) is used.
const tracing = instrumentGuard(guard, local ? { tracer: local.getTracer('fmguard') } : {});

const ask = (text: string, model = 'sim-small') => ({ model, messages: [{ role: 'user' as const, content: text }] });
const search = async () => '3 documents match';

const planner = await guard.startRun({ agent: 'planner' });
await planner.callModel(ask('Plan the answer.'));
await planner.callModel(ask('[sim:fail 1 503] Try the flaky path.')).catch(() => {});
await guard.breakers.open('model:sim-small', { by: 'example', reason: 'maintenance', cooldownMs: null });
await planner.callModel(ask('Plan again.'));
await guard.breakers.close('model:sim-small', { by: 'example', reason: 'back' });

const researcher = await planner.subRun({ agent: 'researcher' });
await researcher.callModel(ask('[sim:tool_call search] Find the refund policy.'));
await researcher.callTool({ tool: 'demo.search', args: { query: 'refunds' }, execute: search });
await researcher.callTool({ tool: 'demo.delete_file', args: { path: '/' }, execute: search }).catch(() => {});
await researcher.end();

await guard.kill(`run:${planner.id}`, 'an operator pressed stop');
await planner.callModel(ask('Anything else?')).catch(() => {});
tracing.shutdown();
await guard.close();

if (sdk) {
  await sdk.shutdown(); // flushes the exporter
  console.log(`spans exported to the OTEL_TRACES_EXPORTER=${process.env.OTEL_TRACES_EXPORTER} exporter`);
} else {
  printTree(memory.getFinishedSpans());
  await local!.shutdown();
}

/** The spans as a tree, each with its GenAI and fmguard attributes. */
function printTree(spans: ReadableSpan[]): void {
  const children = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  const show = (span: ReadableSpan, indent: string) => {
    const a = span.attributes;
    const facts = [
      a['fmguard.decision'],
      a['error.type'] ? `error.type=${a['error.type']}` : undefined,
      a['gen_ai.response.model'] && a['gen_ai.response.model'] !== a['gen_ai.request.model'] ? `served by ${a['gen_ai.response.model']}` : undefined,
      a['gen_ai.usage.input_tokens'] !== undefined ? `tokens ${a['gen_ai.usage.input_tokens']}/${a['gen_ai.usage.output_tokens']}` : undefined,
      typeof a['fmguard.attempts'] === 'number' && a['fmguard.attempts'] > 1 ? `${a['fmguard.attempts']} attempts` : undefined,
      span.events.length > 0 ? span.events.map((e) => e.name).join(', ') : undefined,
    ].filter(Boolean);
    console.log(`${indent}${span.name}${facts.length > 0 ? `  (${facts.join('; ')})` : ''}`);
    for (const child of (children.get(span.spanContext().spanId) ?? []).sort((x, y) => start(x) - start(y))) show(child, `${indent}  `);
  };
  for (const root of children.get(undefined) ?? []) show(root, '');
}
