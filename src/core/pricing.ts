import type { Usage } from './chat.ts';

/** Prices in USD per million tokens, as configured per model. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  cachedInputPerMTok?: number;
}

/** Nano-USD per token: $X per million tokens = X * 1000 nano-USD per token. */
function perTokenNano(perMTok: number): number {
  return perMTok * 1000;
}

/** The cost of `usage` in nano-USD, rounded up (a cost is never under-counted). */
export function costNano(price: Price, usage: Usage): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  const nano =
    (usage.inputTokens - cached) * perTokenNano(price.inputPerMTok) +
    cached * perTokenNano(cachedPrice) +
    usage.outputTokens * perTokenNano(price.outputPerMTok);
  return Math.ceil(nano - 1e-6);
}

/**
 * The most output tokens that `remainingNano` can pay for after the input is paid, or -1 if the
 * input alone does not fit.
 */
export function affordableOutputTokens(price: Price, inputTokens: number, remainingNano: number): number {
  const inputNano = costNano(price, { inputTokens, outputTokens: 0 });
  if (inputNano > remainingNano) return -1;
  const perOutput = perTokenNano(price.outputPerMTok);
  if (perOutput === 0) return Number.MAX_SAFE_INTEGER;
  let tokens = Math.floor((remainingNano - inputNano) / perOutput);
  // Guard the rounding of costNano: step down until the whole call fits.
  while (tokens > 0 && costNano(price, { inputTokens, outputTokens: tokens }) > remainingNano) tokens--;
  return tokens;
}
