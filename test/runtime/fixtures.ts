import type { ConfigInput } from '../../src/config/schema.ts';

/** A small config on the simulated provider; override per test. */
export function baseConfig(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
    },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'], tools: ['*'] }, ...agent } as never },
    defaults: { retry: [] },
    ...extra,
  } as ConfigInput;
}

export function ask(text: string, model = 'sim-small') {
  return { model, messages: [{ role: 'user' as const, content: text }] };
}
