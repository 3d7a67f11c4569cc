import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/schema.ts';
import { createAnthropicProvider } from '../providers/anthropic/anthropic.ts';
import { createBedrockProvider } from '../providers/bedrock/index.ts';
import type { HttpModelProvider } from '../providers/http.ts';
import { createOpenAIProvider } from '../providers/openai/openai.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { ModelProvider } from '../providers/provider.ts';
import { createSimModel } from '../providers/simulated/sim-model.ts';

export { createAnthropicProvider, type AnthropicProviderOptions } from '../providers/anthropic/anthropic.ts';
export { createBedrockProvider, type BedrockProviderOptions } from '../providers/bedrock/index.ts';
export type { HttpModelProvider } from '../providers/http.ts';
export { createOpenAIProvider, type OpenAIProviderOptions } from '../providers/openai/openai.ts';
export { ProviderError, type ModelProvider, type ProviderCallOptions } from '../providers/provider.ts';

export interface CreateProviderOptions {
  clock: Clock;
  /** Share one undici dispatcher across providers (tests, proxies); default: a pool per provider. */
  dispatcher?: Dispatcher;
}

/**
 * A network provider from its config entry. `simulated` providers are built in process by
 * `buildProviders` (they need the simulator's own options), so they are not handled here.
 */
export function createProvider(name: string, config: ProviderConfig, { clock, dispatcher }: CreateProviderOptions): HttpModelProvider {
  switch (config.kind) {
    case 'openai':
      return createOpenAIProvider({
        name,
        baseUrl: config.baseUrl,
        apiKey: config.apiKey,
        headers: config.headers,
        responses: config.responses,
        dispatcher,
        clock,
      });
    case 'anthropic':
      return createAnthropicProvider({ name, baseUrl: config.baseUrl, apiKey: config.apiKey, version: config.version, dispatcher, clock });
    case 'bedrock':
      // The AWS SDK brings its own HTTP handler (and SigV4 signing); a shared undici dispatcher does not apply.
      return createBedrockProvider({ name, region: config.region, endpoint: config.endpoint, profile: config.profile, clock });
    default:
      throw new TypeError(`provider "${name}": kind "${config.kind}" is not an HTTP provider (simulated providers are built in process)`);
  }
}

/** Providers from the config, except those the caller supplies itself. */
export function buildProviders(config: FmguardConfig, clock: Clock, supplied: ReadonlySet<string>): Record<string, ModelProvider> {
  const out: Record<string, ModelProvider> = {};
  for (const [name, provider] of Object.entries(config.providers)) {
    if (supplied.has(name)) continue;
    if (provider.kind === 'simulated') {
      out[name] = createSimModel({
        clock,
        scenario: provider.scenario,
        seed: provider.seed,
        tokensPerSecond: provider.tokensPerSecond,
        firstTokenLatencyMs: provider.firstTokenMs,
      });
    } else {
      out[name] = createProvider(name, provider, { clock });
    }
  }
  return out;
}
