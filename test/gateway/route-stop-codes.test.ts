import { FakeClock } from '../../src/testing/fake-clock.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { ALL_STOP_CODES, STOP_CODES, shouldRetry, type StopCode } from '../../src/core/codes.ts';
import { guardError } from '../../src/core/errors.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { ask, BOT_KEY, closeAll, gatewayConfig, type StartOptions, startGateway, type TestGateway } from './helpers.ts';
import { namedSse, postTo } from './inbound-helpers.ts';

/**
 * Every stop code a model call can produce, from a real cause, over each route beside chat
 * completions (stop-codes.test.ts covers that one): the status, the headers and the body in the
 * route's own error shape. Table-driven: a route says how to ask for text (with a `[sim:…]`
 * directive), a looping conversation, a stream; a case says how to cause its code.
 */
afterEach(closeAll);

type Shape = 'openai' | 'anthropic';

interface Route {
  path: string;
  shape: Shape;
  /** A request for `text` (the sim reads its directives from it). */
  body(text: string, options?: { stream?: boolean; model?: string }): Record<string, unknown>;
  /** A conversation in which the agent repeated the same tool call four times; undefined: the route has no tool calls. */
  loop?(): Record<string, unknown>;
  streams: boolean;
  /** Headers that carry the agent key. */
  key(key: string): Record<string, string>;
}

const call = (n: number) => ({ id: `c${n}`, name: 'search', args: { q: 'x' } });

const ROUTES: Record<string, Route> = {
  '/v1/responses': {
    path: '/v1/responses',
    shape: 'openai',
    streams: true,
    body: (text, { stream, model = 'sim-small' } = {}) => ({ model, input: text, ...(stream ? { stream: true } : {}) }),
    loop: () => ({
      model: 'sim-small',
      input: [
        { role: 'user', content: 'find x' },
        ...[1, 2, 3, 4].flatMap((n) => [
          { type: 'function_call', call_id: call(n).id, name: 'search', arguments: JSON.stringify(call(n).args) },
          { type: 'function_call_output', call_id: call(n).id, output: 'nothing' },
        ]),
      ],
    }),
    key: (key) => ({ authorization: `Bearer ${key}` }),
  },
  '/v1/messages': {
    path: '/v1/messages',
    shape: 'anthropic',
    streams: true,
    body: (text, { stream, model = 'sim-small' } = {}) => ({
      model,
      max_tokens: 1024,
      messages: [{ role: 'user', content: text }],
      ...(stream ? { stream: true } : {}),
    }),
    loop: () => ({
      model: 'sim-small',
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'find x' },
        ...[1, 2, 3, 4].flatMap((n) => [
          { role: 'assistant', content: [{ type: 'tool_use', id: call(n).id, name: 'search', input: call(n).args }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call(n).id, content: 'nothing' }] },
        ]),
      ],
    }),
    key: (key) => ({ authorization: '', 'x-api-key': key }),
  },
  '/v1/embeddings': {
    path: '/v1/embeddings',
    shape: 'openai',
    streams: false,
    body: (text, { model = 'sim-embed' } = {}) => ({ model, input: text }),
    key: (key) => ({ authorization: `Bearer ${key}` }),
  },
};

interface Case {
  code: StopCode;
  start?: StartOptions;
  headers?: Record<string, string>;
  key?: string;
  text?: string;
  stream?: boolean;
  model?: string;
  /** Requests that succeed first, building up the state that refuses the last one. */
  setup?: (gw: TestGateway, send: (text: string) => Promise<Response>) => Promise<void>;
  /** The route must have this (tool calls, streams) for the case to apply. */
  needs?: 'loop' | 'stream' | 'text';
  /** The stop comes after the stream started: an error event in a 200 stream. */
  midStream?: boolean;
}

function withEmbed(config: ConfigInput): ConfigInput {
  return { ...config, models: { ...config.models, 'sim-embed': { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0 } } };
}
/** Resolves once the simulator holds a call (it was admitted and reserved): no fixed sleep. */
async function inFlightAtSim(gw: TestGateway): Promise<void> {
  for (let i = 0; i < 3000 && gw.sim.stats.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
  if (gw.sim.stats.inFlight === 0) throw new Error('the holding call never reached the simulator');
}

const cfg = (bot: Record<string, unknown>, extra: Partial<ConfigInput> = {}): StartOptions => ({ config: withEmbed(gatewayConfig(bot, extra)) });

function storeDown() {
  const store = createMemoryStore();
  store.ledger.reserve = async () => {
    throw guardError('store.unavailable', 'the ledger could not be reached');
  };
  return store;
}

const CASES: Case[] = [
  { code: 'request.invalid', model: 'gpt-unknown' },
  { code: 'auth.invalid', key: 'sk-not-a-key-0000' },
  { code: 'budget.exhausted', start: cfg({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.0000000001 }] } } }) },
  { code: 'limit.cost', start: cfg({ limits: { maxCostUsd: 0.0000000001 } }) },
  {
    code: 'limit.steps',
    start: cfg({ limits: { maxSteps: 1 } }),
    headers: { 'x-fmguard-run': 'steps-run' },
    setup: async (_gw, send) => void (await send('one')),
  },
  { code: 'limit.tokens', start: cfg({ limits: { maxTotalTokens: 5 } }) },
  // The run's wall time on a fake clock: a loaded machine cannot make the first call late.
  ((clock) => ({
    code: 'limit.duration' as const,
    start: { ...cfg({ limits: { maxDurationMs: 60_000 } }), guard: { clock } },
    headers: { 'x-fmguard-run': 'short-run' },
    setup: async (_gw: TestGateway, send: (text: string) => Promise<Response>) => {
      await send('one');
      await clock.advance(60_001);
    },
  }))(new FakeClock(Date.now())),
  {
    code: 'limit.depth',
    start: cfg({ limits: { maxDepth: 0 } }),
    headers: { 'x-fmguard-parent-run': 'root-run' },
    setup: async (gw) => void (await gw.guard.startRun({ key: BOT_KEY, id: 'root-run' })),
  },
  { code: 'loop.repeated_tool_call', needs: 'loop' },
  {
    // One call in flight (over chat completions) holds the agent's only slot; its upstream never answers.
    code: 'limit.concurrency',
    start: cfg({ maxConcurrentCalls: 1 }),
    setup: async (gw) => {
      void gw.post({ ...ask('[sim:stall_first] hold'), stream: true }).catch(() => {});
      await inFlightAtSim(gw);
    },
  },
  {
    // A call in flight holds all that is left of the run's $0.50; nothing is settled.
    code: 'limit.contended',
    start: cfg({ limits: { maxCostUsd: 0.5 } }),
    headers: { 'x-fmguard-run': 'contended-run' },
    model: 'sim-pricey',
    setup: async (gw) => {
      void gw.post({ ...ask('[sim:stall_first] hold', 'sim-pricey'), stream: true }, { 'x-fmguard-run': 'contended-run' }).catch(() => {});
      await inFlightAtSim(gw);
    },
  },
  {
    code: 'loop.no_progress',
    needs: 'text',
    text: '[sim:no_progress] draft',
    headers: { 'x-fmguard-run': 'stuck-run' },
    setup: async (_gw, send) => {
      await send('[sim:no_progress] draft');
      await send('[sim:no_progress] draft');
      await send('[sim:no_progress] draft');
    },
  },
  { code: 'policy.denied', start: cfg({ allow: { models: ['sim-pricey'] } }) },
  { code: 'kill.switch', setup: (gw) => gw.guard.kill('agent:bot', 'runaway') },
  { code: 'rate.limited', start: cfg({ rateLimits: { requestsPerMinute: 1 } }), setup: async (_gw, send) => void (await send('one')) },
  { code: 'upstream.error', text: '[sim:fail 1 500] hi' },
  {
    code: 'breaker.open',
    setup: async (gw) => {
      const breakers = (gw.guard as unknown as { breakers: { open(scope: string, o: object): Promise<unknown> } }).breakers;
      await breakers.open('provider:sim', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    },
  },
  // A tenant budget, so the reservation reaches the broken shared ledger (a run of its own keeps its own limits in the process).
  {
    code: 'store.unavailable',
    start: { config: withEmbed(gatewayConfig({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 100 }] } } })), guard: { store: storeDown() } },
  },
  { code: 'timeout.total', start: cfg({ timeouts: { model: { totalMs: 200 } } }), text: '[sim:stall 0] hi' },
  { code: 'timeout.first_token', needs: 'stream', stream: true, start: cfg({ timeouts: { model: { firstTokenMs: 200 } } }), text: '[sim:stall_first] hi' },
  { code: 'timeout.idle', needs: 'stream', stream: true, midStream: true, start: cfg({ timeouts: { model: { idleMs: 200 } } }), text: '[sim:stall 3] hi' },
];

/** Codes no model call produces: tool-call limits, approvals and tool errors belong to tool calls (MCP, SDK). */
// run.idle is not from a call either: the idle sweeper sets it between calls (test/live/idle.test.ts).
const TOOL_ONLY: StopCode[] = [
  'approval.denied',
  'approval.expired',
  'approval.required',
  'limit.tool_calls',
  'loop.repeated_error',
  'run.idle',
  'timeout.tool',
];

function applies(route: Route, c: Case): boolean {
  if (c.needs === 'loop') return route.loop !== undefined;
  // Streams, and outputs that could repeat, are for routes that generate text.
  if (c.needs === 'stream' || c.needs === 'text') return route.streams;
  return true;
}

function expectOpenAIShape(body: Record<string, unknown>, code: StopCode): void {
  expect(body.error).toMatchObject({ type: 'fmguard_error', code, message: expect.any(String) });
  expect(body.error).toHaveProperty('param');
  expect(typeof (body.error as { fmguard?: unknown }).fmguard).toBe('object');
}

function expectAnthropicShape(body: Record<string, unknown>, code: StopCode, status: number): void {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    429: 'rate_limit_error',
    502: 'api_error',
    503: 'overloaded_error',
    504: 'timeout_error',
  };
  expect(body).toMatchObject({ type: 'error', error: { type: types[status], code, details: { error_code: code }, message: expect.any(String) } });
}

const table = Object.entries(ROUTES).flatMap(([name, route]) => CASES.filter((c) => applies(route, c)).map((c) => [name, c.code, route, c] as const));

describe('every stop code of a model call, over each route, with its status and body shape', () => {
  it.each(table)('%s %s', async (_name, code, route, c) => {
    const gw = await startGateway(c.start ?? { config: withEmbed(gatewayConfig()) });
    const headers = { ...route.key(c.key ?? BOT_KEY), ...c.headers };
    const send = (text: string, stream = false) => postTo(gw, route.path, route.body(text, { stream, model: c.model }), headers);
    await c.setup?.(gw, (text) => send(text).then((res) => (expect(res.status).toBe(200), res.text()).then(() => res)));
    const res = c.needs === 'loop' ? await postTo(gw, route.path, route.loop!(), headers) : await send(c.text ?? 'hi', c.stream);
    const status = STOP_CODES[code].http;

    if (c.midStream) {
      // After the first event the status is already 200: the stop is the route's error event.
      expect(res.status).toBe(200);
      const events = namedSse(await res.text());
      const [name, data] = events.at(-1)!;
      expect(name).toBe('error');
      if (route.shape === 'anthropic') expectAnthropicShape(data, code, status);
      else {
        expect(data).toMatchObject({ type: 'error', code });
        expectOpenAIShape(data, code);
        expect(events.at(-2)![1]).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code } } });
        // The failed response carries the text that was streamed before the stop (it was empty).
        const streamed = events.filter(([n]) => n === 'response.output_text.delta').map(([, d]) => d.delta);
        const { output } = events.at(-2)![1].response as { output: Array<{ type: string; content?: Array<{ text: string }> }> };
        const kept = output.flatMap((item) => (item.type === 'message' ? (item.content ?? []) : [])).map((part) => part.text);
        expect(kept.join('')).toBe(streamed.join(''));
      }
      return;
    }

    expect(res.status).toBe(status);
    expect(res.headers.get('x-fmguard-code')).toBe(code);
    expect(res.headers.get('x-should-retry')).toBe(String(shouldRetry(code)));
    // Refusals after the run exists name it; those before it (bad input, a bad key, a sub-run too deep to start) cannot.
    if (!['request.invalid', 'auth.invalid', 'limit.depth'].includes(code)) expect(res.headers.get('x-fmguard-run')).toMatch(/\S/);
    if (code === 'rate.limited' || code === 'breaker.open') expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await res.json();
    if (route.shape === 'anthropic') expectAnthropicShape(body, code, status);
    else expectOpenAIShape(body, code);
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at |\.ts:\d+/);
  });

  it.each(Object.entries(ROUTES))('%s: the codes left out cannot come from a call on it', (_name, route) => {
    const covered = new Set(CASES.filter((c) => applies(route, c)).map((c) => c.code));
    const left = ALL_STOP_CODES.filter((code) => !covered.has(code)).sort();
    // Embeddings propose no tool calls, repeat no output and do not stream.
    const notHere = route.streams ? [] : ['loop.no_progress', 'loop.repeated_tool_call', 'timeout.first_token', 'timeout.idle'];
    // gateway.shutting_down comes from the server, not the call (test/cli/shutdown.test.ts).
    expect(left).toEqual([...TOOL_ONLY, 'gateway.shutting_down', ...notHere].sort());
  });
});
