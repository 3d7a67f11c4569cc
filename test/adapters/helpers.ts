/**
 * The one door from the adapter tests into fmguard: the public SDK surface (src/index.ts) and the
 * adapters' subpath entry points, plus the config and price helpers the tests share.
 */
import type { ConfigInput } from '../../src/index.ts';

export * from '../../src/index.ts';
export { startSimServer, type SimServer, type SimServerOptions } from '../../src/providers/simulated/sim-server.ts';
export { createDemoToolServer, createDemoWorld, type DemoWorld } from '../../src/demo/tools/index.ts';
export { FMGUARD_JSONRPC_ERROR } from '../../src/mcp/refusals.ts';
export * as aiSdk from '../../src/adapters/ai-sdk/index.ts';
export * as agents from '../../src/adapters/openai-agents/index.ts';
export * as lang from '../../src/adapters/langchain/index.ts';
export * as mcp from '../../src/adapters/mcp-client/index.ts';
export * as otel from '../../src/adapters/otel/index.ts';

/** Prices of the test model, USD per million tokens. */
export const PRICE = { inputPerMTok: 2.5, outputPerMTok: 10 };

/**
 * A config whose models are served by the framework under test (provider `app`, given to createGuard
 * as `frameworkProvider()`), with the demo tool server's names in policies.
 */
export function frameworkConfig(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { app: { kind: 'simulated' }, sim: { kind: 'simulated' } },
    models: {
      'gpt-test': { provider: 'app', ...PRICE, maxOutputTokens: 4096 },
      'gpt-pricey': { provider: 'app', inputPerMTok: 300, outputPerMTok: 1200 },
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 },
    },
    tenants: { acme: {} },
    agents: {
      bot: {
        tenant: 'acme',
        keys: ['sk-test-bot-0001'],
        allow: { models: ['*'], tools: ['demo.search', 'demo.read_file', 'demo.sleep', 'demo.send_email'] },
        approve: { tools: ['demo.send_email'] },
        ...agent,
      } as never,
    },
    defaults: { retry: [] },
    ...extra,
  } as ConfigInput;
}

/** What the gateway records for one call with this usage: nano-USD rounded up per call (core/pricing.ts). */
export function callCostNano(usage: { inputTokens: number; outputTokens: number }, price = PRICE): number {
  return Math.ceil(usage.inputTokens * price.inputPerMTok * 1000 + usage.outputTokens * price.outputPerMTok * 1000 - 1e-6);
}

/** Sum of per-call costs in USD, as the ledger keeps it. */
export function costUsd(calls: ReadonlyArray<{ inputTokens: number; outputTokens: number }>, price = PRICE): number {
  return calls.reduce((sum, usage) => sum + callCostNano(usage, price), 0) / 1e9;
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(promise).then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 200)}`);
    },
    (error: unknown) => error,
  );
}
