import { createRequire } from 'node:module';
import type { Price } from '../core/pricing.ts';
import type { ProviderConfig } from './schema.ts';

/** Where a model's price came from (`fmguard models` shows it). */
export type PriceSource = 'config' | 'catalogue' | 'config+catalogue';

/** The catalogue's provider id for each provider kind that calls a real, priced API. */
const CATALOGUE_PROVIDER: Partial<Record<ProviderConfig['kind'], string>> = { openai: 'openai', anthropic: 'anthropic', bedrock: 'aws' };

type TieredPrice = { base: number; tiers: Array<{ price: number }> };
type CatalogueValue = number | TieredPrice | undefined;
interface CatalogueModule {
  calcPrice(
    usage: Record<string, number>,
    modelId: string,
    options: { providerId: string },
  ): { model: { id: string }; model_price: Record<string, CatalogueValue> } | null;
}

let catalogue: CatalogueModule | undefined;

/** Loaded on the first model without a configured price: commands that never price a model do not pay for it. */
function load(): CatalogueModule {
  catalogue ??= createRequire(import.meta.url)('@pydantic/genai-prices') as CatalogueModule;
  return catalogue;
}

/**
 * A tiered price (cheaper or dearer above a context length) is budgeted at its highest tier: a
 * reservation must never under-count what the call can cost.
 */
function upperBound(value: CatalogueValue): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && typeof value.base === 'number') return Math.max(value.base, ...value.tiers.map((t) => t.price));
  return undefined;
}

/** Whether models of this provider kind are priced from the catalogue by default (simulated ones never are). */
export function hasCatalogue(kind: ProviderConfig['kind']): boolean {
  return CATALOGUE_PROVIDER[kind] !== undefined;
}

/**
 * The catalogue's current price of `model` at a provider of `kind`, in USD per million tokens, or
 * undefined when the catalogue does not know it. The catalogue is the copy bundled with the pinned
 * `@pydantic/genai-prices` version (no network: a price never changes under a running gateway).
 */
export function cataloguePrice(kind: ProviderConfig['kind'], model: string): (Price & { catalogueId: string }) | undefined {
  const providerId = CATALOGUE_PROVIDER[kind];
  if (!providerId) return undefined;
  const found = load().calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId });
  if (!found) return undefined;
  const input = upperBound(found.model_price.input_mtok);
  const output = upperBound(found.model_price.output_mtok);
  if (input === undefined || output === undefined) return undefined;
  const cached = upperBound(found.model_price.cache_read_mtok);
  return { inputPerMTok: input, outputPerMTok: output, ...(cached !== undefined ? { cachedInputPerMTok: cached } : {}), catalogueId: found.model.id };
}
