import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { ProviderConfig } from '../config/schema.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { createBedrockProvider } from './bedrock/index.ts';
import type { HttpModelProvider } from './http.ts';
import { createOpenAIProvider } from './openai.ts';

export { createAnthropicProvider, type AnthropicProviderOptions } from './anthropic.ts';
export { createBedrockProvider, type BedrockProviderOptions } from './bedrock/index.ts';
export type { HttpModelProvider } from './http.ts';
export { createOpenAIProvider, type OpenAIProviderOptions } from './openai.ts';
export { ProviderError, type ModelProvider, type ProviderCallOptions } from './provider.ts';

export interface CreateProviderOptions {
  clock: Clock;
  /** Share one undici dispatcher across providers (tests, proxies); default: a pool per provider. */
  dispatcher?: Dispatcher;
}

/**
 * A network provider from its config entry. `simulated` providers are built in process by the
 * runtime (they need the sim's own options), so they are not handled here.
 */
export function createProvider(name: string, config: ProviderConfig, { clock, dispatcher }: CreateProviderOptions): HttpModelProvider {
  switch (config.kind) {
    case 'openai':
      return createOpenAIProvider({ name, baseUrl: config.baseUrl, apiKey: config.apiKey, headers: config.headers, dispatcher, clock });
    case 'anthropic':
      return createAnthropicProvider({ name, baseUrl: config.baseUrl, apiKey: config.apiKey, version: config.version, dispatcher, clock });
    case 'bedrock':
      // The AWS SDK brings its own HTTP handler (and SigV4 signing); a shared undici dispatcher does not apply.
      return createBedrockProvider({ name, region: config.region, endpoint: config.endpoint, profile: config.profile, clock });
    default:
      throw new TypeError(`provider "${name}": kind "${config.kind}" is not an HTTP provider (simulated providers are built by the runtime)`);
  }
}
