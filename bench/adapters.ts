/**
 * npm run bench:adapters — what each framework adapter adds to one call of its framework.
 *
 * Each pair makes the same framework call against the same instant in-process model, once plain and
 * once through the adapter (memory store), so the difference is the adapter plus the guarded call
 * behind it: translation both ways, the runtime's decision order, settlement. Sides interleave in
 * rounds so both see the same machine state; the machine is shared, so its load average is recorded.
 */
import { loadavg } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Agent, Runner, Usage, type Model, type ModelProvider, type ModelResponse, type StreamEvent } from '@openai/agents';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createAgent } from 'langchain';
import { createGuard, type ConfigInput, type Run } from '../src/index.ts';
import { createDemoToolServer } from '../src/demo/tools/index.ts';
import { frameworkProvider, guardMiddleware as aiSdkMiddleware } from '../src/adapters/ai-sdk/index.ts';
import { guardMiddleware as langchainMiddleware } from '../src/adapters/langchain/index.ts';
import { guardMcpClient } from '../src/adapters/mcp-client/index.ts';
import { guardModelProvider } from '../src/adapters/openai-agents/index.ts';
import { instrumentGuard } from '../src/adapters/otel/index.ts';
import { percentile, writeSection } from './results.ts';

const ROUNDS = 5;
const CALLS_PER_ROUND = Number(process.env.BENCH_CALLS ?? 200);
const WARMUP = 200;

const unlimited = { maxSteps: 1e9, maxToolCalls: 1e9, maxCostUsd: 1e6, maxTotalTokens: 1e15, maxIdenticalOutputs: 1e9, maxIdenticalToolCalls: 1e9 };
const config: ConfigInput = {
  store: { kind: 'memory' },
  providers: { app: { kind: 'simulated' }, sim: { kind: 'simulated' } },
  models: { 'gpt-test': { provider: 'app', inputPerMTok: 0.15, outputPerMTok: 0.6 }, 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  toolServers: { demo: { kind: 'builtin' } },
  tenants: { acme: {} },
  agents: { bench: { tenant: 'acme', limits: unlimited, allow: { models: ['*'], tools: ['demo.*'] } } },
};
const guard = createGuard({ config, providers: { app: frameworkProvider('app') }, audit: false });
const run: Run = await guard.startRun({ agent: 'bench' });

const ANSWER = 'Paris is the capital of France.';
const usage = { inputTokens: { total: 12, noCache: 12, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 8, text: 8, reasoning: undefined } };

// --- AI SDK: the SDK's own mock model, answered at once.
const mock = new MockLanguageModelV3({
  modelId: 'gpt-test',
  doGenerate: async () => ({ content: [{ type: 'text', text: ANSWER }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }),
  doStream: async () => ({
    stream: new ReadableStream({
      start(c) {
        c.enqueue({ type: 'stream-start', warnings: [] });
        c.enqueue({ type: 'text-start', id: 't' });
        for (const word of ANSWER.split(' ')) c.enqueue({ type: 'text-delta', id: 't', delta: `${word} ` });
        c.enqueue({ type: 'text-end', id: 't' });
        c.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
        c.close();
      },
    }),
  }),
});
const guardedMock = wrapLanguageModel({ model: mock, middleware: aiSdkMiddleware(run) });

// --- OpenAI Agents SDK: a model answering at once, one turn per run.
const instantModel: Model = {
  async getResponse(): Promise<ModelResponse> {
    return { usage: new Usage({ requests: 1, inputTokens: 12, outputTokens: 8, totalTokens: 20 }), output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: ANSWER }] }] };
  },
  async *getStreamedResponse(): AsyncIterable<StreamEvent> {
    yield { type: 'output_text_delta', delta: ANSWER };
    yield { type: 'response_done', response: { id: 'r', usage: { inputTokens: 12, outputTokens: 8, totalTokens: 20, requests: 1 }, output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: ANSWER }] }] } };
  },
};
const instantProvider: ModelProvider = { getModel: () => instantModel };
const agentsAgent = new Agent({ name: 'bench', model: 'gpt-test' });
const plainRunner = new Runner({ modelProvider: instantProvider, tracingDisabled: true });
const guardedRunner = new Runner({ modelProvider: guardModelProvider(instantProvider, run), tracingDisabled: true });

// --- LangChain: its fake chat model in an agent, with and without the middleware.
const fake = () => new FakeListChatModel({ responses: [ANSWER] });
const plainAgent = createAgent({ model: fake(), tools: [] });
const streamingAgent = createAgent({ model: fake(), tools: [], middleware: [langchainMiddleware(run, { model: 'gpt-test' })] });
const wholeAgent = createAgent({ model: fake(), tools: [], middleware: [langchainMiddleware(run, { model: 'gpt-test', streaming: false })] });
const ask = { messages: [{ role: 'user', content: 'What is the capital of France?' }] };
/** What LangChain attaches when an agent is streamed: the model then streams its answer, token by token. */
class StreamingHandler extends BaseCallbackHandler {
  name = 'bench-streaming';
  lc_prefer_streaming = true;
  override handleLLMNewToken(): void {}
}
const streamed = { callbacks: [new StreamingHandler()] };

// --- MCP client: the demo tool server over the SDK's in-memory transport.
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
const mcpServer = createDemoToolServer();
await mcpServer.connect(serverSide);
const mcpClient = new Client({ name: 'bench', version: '1.0.0' });
await mcpClient.connect(clientSide);
const guardedMcp = guardMcpClient(mcpClient, run, { server: 'demo' });
let query = 0;

// --- OpenTelemetry: a guarded call with and without the instrumentation (in-memory exporter).
const otelGuard = createGuard({ config, audit: false });
const otelPlainRun = await otelGuard.startRun({ agent: 'bench' });
const tracedGuard = createGuard({ config, audit: false });
const exporter = new InMemorySpanExporter();
const tracing = instrumentGuard(tracedGuard, { tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('bench') });
const tracedRun = await tracedGuard.startRun({ agent: 'bench' });
const simRequest = { model: 'sim-small', messages: [{ role: 'user' as const, content: 'What is the capital of France?' }], max_tokens: 64 };

interface Pair {
  name: string;
  plain: [string, () => Promise<unknown>];
  guarded: [string, () => Promise<unknown>];
}

const pairs: Pair[] = [
  { name: 'AI SDK generateText', plain: ['MockLanguageModelV3', () => generateText({ model: mock, prompt: 'What is the capital of France?' })], guarded: ['+ guardMiddleware(run)', () => generateText({ model: guardedMock, prompt: 'What is the capital of France?' })] },
  { name: 'AI SDK streamText', plain: ['MockLanguageModelV3', () => Promise.resolve(streamText({ model: mock, prompt: 'What is the capital of France?' }).text)], guarded: ['+ guardMiddleware(run)', () => Promise.resolve(streamText({ model: guardedMock, prompt: 'What is the capital of France?' }).text)] },
  { name: 'Agents SDK run (1 turn)', plain: ['instant Model', () => plainRunner.run(agentsAgent, 'What is the capital of France?')], guarded: ['+ guardModelProvider(run)', () => guardedRunner.run(agentsAgent, 'What is the capital of France?')] },
  { name: 'LangChain agent.invoke', plain: ['FakeListChatModel, model streaming', () => plainAgent.invoke(ask, streamed)], guarded: ['+ guardMiddleware(run), streaming', () => streamingAgent.invoke(ask, streamed)] },
  { name: 'LangChain agent.invoke', plain: ['FakeListChatModel', () => plainAgent.invoke(ask)], guarded: ['+ guardMiddleware(run), streaming: false', () => wholeAgent.invoke(ask)] },
  { name: 'MCP client.callTool', plain: ['in-memory demo server', () => mcpClient.callTool({ name: 'search', arguments: { query: `refund ${query++}` } })], guarded: ['+ guardMcpClient(run)', () => guardedMcp.callTool({ name: 'search', arguments: { query: `refund ${query++}` } })] },
  { name: 'run.callModel (sim)', plain: ['not traced', () => otelPlainRun.callModel(simRequest)], guarded: ['+ instrumentGuard (in-memory exporter)', () => tracedRun.callModel(simRequest)] },
];

async function time(n: number, call: () => Promise<unknown>, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    out.push(performance.now() - t);
  }
}

const loadBefore = loadavg();
const us = (ms: number) => (ms * 1000).toFixed(0);
const rows: string[] = [];
// BENCH_ONLY=LangChain measures only the pairs whose name contains it (the section is not written then).
const only = process.env.BENCH_ONLY;
for (const pair of pairs.filter((p) => !only || p.name.includes(only))) {
  await time(WARMUP, pair.plain[1], []);
  await time(WARMUP, pair.guarded[1], []);
  const plain: number[] = [];
  const guarded: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await time(CALLS_PER_ROUND, pair.plain[1], plain);
    await time(CALLS_PER_ROUND, pair.guarded[1], guarded);
    exporter.reset();
  }
  plain.sort((a, b) => a - b);
  guarded.sort((a, b) => a - b);
  const added = percentile(guarded, 50) - percentile(plain, 50);
  rows.push(`| ${pair.name} | ${pair.plain[0]} | ${us(percentile(plain, 50))} | ${us(percentile(plain, 90))} | ${pair.guarded[0]} | ${us(percentile(guarded, 50))} | ${us(percentile(guarded, 90))} | **${us(added)}** |`);
  console.log(rows.at(-1));
}
const loadAfter = loadavg();

const body = `${ROUNDS} interleaved rounds of ${CALLS_PER_ROUND} sequential calls per side after ${WARMUP} warm-up calls; instant in-process models; memory store, audit off.
"Added" is the adapter plus the guarded call behind it (the runtime alone: bench:core). Streamed rows meter every chunk: the AI SDK mock streams 8 text deltas, LangChain's fake model one character per chunk (31), so those rows are mostly per-chunk cost; the first LangChain row compares with the model streaming anyway, as it does when an agent is streamed.
Load average (1/5/15 min) before ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} — on a shared 2-core machine, read the figures as upper bounds.

| framework call | plain | p50 µs | p90 µs | with the adapter | p50 µs | p90 µs | added p50 µs |
|---|---|---:|---:|---|---:|---:|---:|
${rows.join('\n')}`;
console.log(`\n${body}`);
if (!only) writeSection('Framework adapter overhead (bench:adapters)', body);

tracing.shutdown();
await mcpClient.close();
await mcpServer.close();
await run.end();
await guard.close();
await otelGuard.close();
await tracedGuard.close();
