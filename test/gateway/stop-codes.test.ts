import OpenAI, { APIError } from 'openai';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_STOP_CODES, shouldRetry, STOP_CODES, type StopCode } from '../../src/core/codes.ts';
import { guardError } from '../../src/core/errors.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { ModelProvider } from '../../src/providers/provider.ts';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { ask, closeAll, gatewayConfig, startGateway, type StartOptions, type TestGateway } from './helpers.ts';

afterEach(closeAll);

type ErrorClass = abstract new (...args: never[]) => APIError;

interface Case {
  code: StopCode;
  /** The openai client's class for the status (402 has none of its own: plain APIError). */
  expectClass: ErrorClass;
  start?: StartOptions;
  /** Client headers (a named run, a parent run). */
  headers?: Record<string, string>;
  key?: string;
  /** Calls that succeed first (they build up the state that refuses the last one). */
  setup?: (gw: TestGateway, client: OpenAI) => Promise<void>;
  call: (client: OpenAI) => Promise<unknown>;
  /** Retryable codes: how many retries to allow (a long retry-after would make the client wait it out). */
  retries?: number;
}

const repeatedCall = {
  role: 'assistant' as const,
  content: null,
  tool_calls: [{ id: 'c1', type: 'function' as const, function: { name: 'search', arguments: '{"q":"x"}' } }],
};
const toolResult = { role: 'tool' as const, tool_call_id: 'c1', content: 'nothing' };

function storeDown() {
  const store = createMemoryStore();
  store.ledger.reserve = async () => {
    throw guardError('store.unavailable', 'the ledger could not be reached');
  };
  return store;
}

/** Resolves once the simulator holds a call (it was admitted and reserved): no fixed sleep. */
async function inFlightAtSim(gw: TestGateway): Promise<void> {
  for (let i = 0; i < 3000 && gw.sim.stats.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 10));
  if (gw.sim.stats.inFlight === 0) throw new Error('the holding call never reached the simulator');
}

const cfg = (bot: Record<string, unknown>, extra: Partial<ConfigInput> = {}) => ({ config: gatewayConfig(bot, extra) });

/** Every stop code DESIGN.md lists that a model call over HTTP can produce, each from a real cause. */
const CASES: Case[] = [
  { code: 'request.invalid', expectClass: OpenAI.BadRequestError, call: (c) => c.chat.completions.create(ask('hi', 'gpt-unknown')) },
  { code: 'auth.invalid', expectClass: OpenAI.AuthenticationError, key: 'sk-not-a-key-0000', call: (c) => c.chat.completions.create(ask('hi')) },
  {
    code: 'budget.exhausted',
    expectClass: APIError,
    start: cfg({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.0000001 }] } } }),
    call: (c) => c.chat.completions.create(ask('hi')),
  },
  { code: 'limit.cost', expectClass: APIError, start: cfg({ limits: { maxCostUsd: 0.0000001 } }), call: (c) => c.chat.completions.create(ask('hi')) },
  {
    code: 'limit.steps',
    expectClass: OpenAI.PermissionDeniedError,
    start: cfg({ limits: { maxSteps: 1 } }),
    headers: { 'x-fmguard-run': 'steps-run' },
    setup: async (_gw, c) => void (await c.chat.completions.create(ask('one'))),
    call: (c) => c.chat.completions.create(ask('two')),
  },
  {
    code: 'limit.tokens',
    expectClass: OpenAI.PermissionDeniedError,
    start: cfg({ limits: { maxTotalTokens: 5 } }),
    call: (c) => c.chat.completions.create(ask('hi')),
  },
  // The run's wall time on a fake clock: a loaded machine cannot make the first call late.
  ((clock) => ({
    code: 'limit.duration',
    expectClass: OpenAI.PermissionDeniedError,
    start: { ...cfg({ limits: { maxDurationMs: 60_000 } }), guard: { clock } },
    headers: { 'x-fmguard-run': 'short-run' },
    setup: async (_gw: TestGateway, c: OpenAI) => {
      await c.chat.completions.create(ask('one'));
      await clock.advance(60_001);
    },
    call: (c: OpenAI) => c.chat.completions.create(ask('two')),
  }))(new FakeClock(Date.now())),
  {
    code: 'limit.depth',
    expectClass: OpenAI.PermissionDeniedError,
    start: cfg({ limits: { maxDepth: 0 } }),
    headers: { 'x-fmguard-parent-run': 'root-run' },
    setup: async (gw) => void (await gw.client({ headers: { 'x-fmguard-run': 'root-run' } }).chat.completions.create(ask('root'))),
    call: (c) => c.chat.completions.create(ask('child')),
  },
  {
    code: 'loop.repeated_tool_call',
    expectClass: OpenAI.PermissionDeniedError,
    call: (c) =>
      c.chat.completions.create({
        model: 'sim-small',
        messages: [{ role: 'user', content: 'find x' }, repeatedCall, toolResult, repeatedCall, toolResult, repeatedCall, toolResult, repeatedCall, toolResult],
      }),
  },
  {
    code: 'loop.no_progress',
    expectClass: OpenAI.PermissionDeniedError,
    headers: { 'x-fmguard-run': 'stuck-run' },
    setup: async (_gw, c) => {
      await c.chat.completions.create(ask('[sim:no_progress] draft'));
      await c.chat.completions.create(ask('[sim:no_progress] draft'));
      await c.chat.completions.create(ask('[sim:no_progress] draft'));
    },
    call: (c) => c.chat.completions.create(ask('[sim:no_progress] draft')),
  },
  // The agent's policy allows only sim-pricey (default deny for everything else).
  {
    code: 'policy.denied',
    expectClass: OpenAI.PermissionDeniedError,
    start: cfg({ allow: { models: ['sim-pricey'] } }),
    call: (c) => c.chat.completions.create(ask('hi')),
  },
  {
    code: 'kill.switch',
    expectClass: OpenAI.PermissionDeniedError,
    setup: (gw) => gw.guard.kill('agent:bot', 'runaway'),
    call: (c) => c.chat.completions.create(ask('hi')),
  },
  {
    code: 'rate.limited',
    expectClass: OpenAI.RateLimitError,
    start: cfg({ rateLimits: { requestsPerMinute: 1 } }),
    setup: async (_gw, c) => void (await c.chat.completions.create(ask('one'))),
    call: (c) => c.chat.completions.create(ask('two')),
    // retry-after is ~60 s here; the client would wait it out.
    retries: 0,
  },
  {
    // One call in flight holds the agent's only slot (its upstream never answers).
    code: 'limit.concurrency',
    expectClass: OpenAI.RateLimitError,
    start: cfg({ maxConcurrentCalls: 1 }),
    setup: async (gw) => {
      void gw.post({ ...ask('[sim:stall_first] hold'), stream: true }).catch(() => {});
      await inFlightAtSim(gw);
    },
    call: (c) => c.chat.completions.create(ask('two')),
  },
  {
    // A call in flight holds all that is left of the run's $0.50 (clamped to it); nothing is settled.
    code: 'limit.contended',
    expectClass: OpenAI.RateLimitError,
    start: cfg({ limits: { maxCostUsd: 0.5 } }),
    headers: { 'x-fmguard-run': 'contended-run' },
    setup: async (gw) => {
      void gw.post({ ...ask('[sim:stall_first] hold', 'sim-pricey'), stream: true }, { 'x-fmguard-run': 'contended-run' }).catch(() => {});
      await inFlightAtSim(gw);
    },
    call: (c) => c.chat.completions.create(ask('two', 'sim-pricey')),
  },
  { code: 'upstream.error', expectClass: OpenAI.InternalServerError, call: (c) => c.chat.completions.create(ask('[sim:fail 1 500] hi')), retries: 1 },
  {
    code: 'breaker.open',
    expectClass: OpenAI.InternalServerError,
    setup: async (gw) => {
      const breakers = (gw.guard as unknown as { breakers?: { open(scope: string, o: object): Promise<unknown> } }).breakers;
      if (!breakers) throw new Error('this runtime has no breakers');
      await breakers.open('model:sim-small', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    },
    call: (c) => c.chat.completions.create(ask('hi')),
    retries: 0,
  },
  {
    code: 'store.unavailable',
    expectClass: OpenAI.InternalServerError,
    // A tenant budget, so the request's reservation reaches the (broken) shared ledger: a run of its
    // own keeps its own limits in the process and touches the store only for budgets.
    start: { ...cfg({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 100 }] } } }), guard: { store: storeDown() } },
    call: (c) => c.chat.completions.create(ask('hi')),
    retries: 1,
  },
  {
    code: 'timeout.total',
    expectClass: OpenAI.InternalServerError,
    start: cfg({ timeouts: { model: { totalMs: 200 } } }),
    call: (c) => c.chat.completions.create(ask('[sim:stall 0] hi')),
    retries: 1,
  },
  {
    code: 'timeout.first_token',
    expectClass: OpenAI.InternalServerError,
    start: cfg({ timeouts: { model: { firstTokenMs: 200 } } }),
    call: (c) => c.chat.completions.create({ ...ask('[sim:stall_first] hi'), stream: true }),
    retries: 1,
  },
];

function expectWireShape(error: APIError, code: StopCode): void {
  const status = STOP_CODES[code].http;
  expect(error.status).toBe(status);
  expect(error.headers?.get('x-fmguard-code')).toBe(code);
  expect(error.headers?.get('x-should-retry')).toBe(String(shouldRetry(code)));
  expect(error.code).toBe(code);
  const body = error.error as Record<string, unknown>;
  expect(body).toMatchObject({ type: 'fmguard_error', code });
  expect(typeof body.message).toBe('string');
  expect(body).toHaveProperty('param');
  expect(typeof body.fmguard).toBe('object');
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |\.ts:\d+/);
}

describe('every stop code a model call can produce, over HTTP with the official client', () => {
  it.each(CASES.map((c) => [c.code, c] as const))('%s', async (code, c) => {
    const gw = await startGateway(c.start);
    const retryable = shouldRetry(code);
    const retries = retryable ? (c.retries ?? 1) : 2;
    const client = gw.client({ key: c.key, headers: c.headers, maxRetries: retries });
    await c.setup?.(gw, gw.client({ key: c.key, headers: c.headers, maxRetries: 0 }));
    const before = gw.requests();
    const error = await c.call(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(c.expectClass);
    expectWireShape(error as APIError, code);
    // Terminal codes carry x-should-retry: false and the client does not retry despite maxRetries: 2;
    // retryable ones say true and it does.
    expect(gw.requests() - before).toBe(retryable ? retries + 1 : 1);
    if (code === 'rate.limited' || code === 'breaker.open') {
      const after = Number((error as APIError).headers?.get('retry-after'));
      expect(after).toBeGreaterThan(0);
      expect(Number.isInteger(after)).toBe(true);
    }
  });

  it('covers the catalogue: the codes left out cannot come from a model call', () => {
    const covered = new Set(CASES.map((c) => c.code));
    const notModelCalls = ALL_STOP_CODES.filter((code) => !covered.has(code));
    // Tool-call limits, the approval gate, tool errors and timeouts apply to tool calls (MCP / SDK);
    // timeout.idle is mid-stream, so it is an SSE error event (streams.test.ts).
    // gateway.shutting_down comes from the server, not the call (test/cli/shutdown.test.ts).
    // run.idle is set by the idle sweeper between calls (test/live/idle.test.ts).
    expect(notModelCalls.sort()).toEqual(
      [
        'approval.denied',
        'approval.expired',
        'approval.required',
        'gateway.shutting_down',
        'limit.tool_calls',
        'loop.repeated_error',
        'run.idle',
        'timeout.idle',
        'timeout.tool',
      ].sort(),
    );
  });
});

/** A provider that throws the given stop, to pin the HTTP mapping of every code in the catalogue. */
function throwing(code: StopCode): ModelProvider {
  const error = guardError(code, `injected ${code}`, { retryAfterMs: code === 'rate.limited' ? 1500 : undefined });
  return {
    name: 'sim',
    complete: async () => {
      throw error;
    },
    // biome-ignore lint/correctness/useYield: a stream that fails before its first chunk
    stream: async function* () {
      throw error;
    },
  };
}

describe('the HTTP mapping of the whole catalogue', () => {
  it.each(ALL_STOP_CODES.map((code) => [code]))('%s', async (code) => {
    const gw = await startGateway({ guard: { providers: { sim: throwing(code) } } });
    const res = await gw.post(ask('hi'));
    expect(res.status).toBe(STOP_CODES[code].http);
    expect(res.headers.get('x-fmguard-code')).toBe(code);
    expect(res.headers.get('x-should-retry')).toBe(shouldRetry(code) ? 'true' : 'false');
    expect(res.headers.get('x-fmguard-run')).toMatch(/^run_/);
    const body = await res.json();
    expect(body.error).toMatchObject({ type: 'fmguard_error', code, message: `injected ${code}`, param: null });
    if (code === 'rate.limited') {
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('retry-after-ms')).toBe('1500');
    }
  });
});
