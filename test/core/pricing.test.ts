import { describe, expect, it } from 'vitest';
import { affordableOutputTokens, costNano, type Price } from '../../src/core/pricing.ts';

/** Prices are USD per million tokens; costs are integer nano-USD ($X/MTok = X * 1000 nano-USD per token), rounded up. */
describe('costNano', () => {
  const price: Price = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 };

  it('prices input and output tokens per million', () => {
    // Nothing costs nothing (=== rather than toBe: Math.ceil(-1e-6) is -0, which equals 0 everywhere but Object.is).
    expect(costNano(price, { inputTokens: 0, outputTokens: 0 }) === 0).toBe(true);
    expect(costNano(price, { inputTokens: 1_000_000, outputTokens: 0 })).toBe(3e9);
    expect(costNano(price, { inputTokens: 0, outputTokens: 1_000_000 })).toBe(15e9);
    expect(costNano(price, { inputTokens: 100, outputTokens: 20 })).toBe(100 * 3000 + 20 * 15000);
  });

  it('prices cached input tokens at the cached price, the rest of the input at the input price', () => {
    // 100 uncached at 3000 + 50 cached at 300 + 20 output at 15000.
    expect(costNano(price, { inputTokens: 150, outputTokens: 20, cachedInputTokens: 50 })).toBe(300_000 + 15_000 + 300_000);
    expect(costNano(price, { inputTokens: 150, outputTokens: 0, cachedInputTokens: 150 })).toBe(150 * 300);
    expect(costNano(price, { inputTokens: 150, outputTokens: 0, cachedInputTokens: 0 })).toBe(150 * 3000);
  });

  it('never counts more cached tokens than input tokens', () => {
    expect(costNano(price, { inputTokens: 100, outputTokens: 0, cachedInputTokens: 500 })).toBe(100 * 300);
  });

  it('prices cached tokens at the input price when the model has no cached price', () => {
    const plain: Price = { inputPerMTok: 3, outputPerMTok: 15 };
    expect(costNano(plain, { inputTokens: 150, outputTokens: 20, cachedInputTokens: 50 })).toBe(150 * 3000 + 20 * 15000);
  });

  it('rounds a fraction of a nano-USD up, but not the noise of floating point', () => {
    const tiny: Price = { inputPerMTok: 0.0001, outputPerMTok: 0.0001 }; // 0.1 nano-USD per token
    expect(costNano(tiny, { inputTokens: 1, outputTokens: 0 })).toBe(1);
    expect(costNano(tiny, { inputTokens: 11, outputTokens: 0 })).toBe(2);
    expect(costNano(tiny, { inputTokens: 10, outputTokens: 0 })).toBe(1);
    // 1.1 * 1000 is 1100.0000000000002 in binary floating point: still 1100 nano-USD.
    expect(costNano({ inputPerMTok: 0, outputPerMTok: 1.1 }, { inputTokens: 0, outputTokens: 1 })).toBe(1100);
  });
});

describe('affordableOutputTokens', () => {
  const price: Price = { inputPerMTok: 3, outputPerMTok: 15 }; // 3000 and 15000 nano-USD per token
  const input = 100; // 300_000 nano-USD

  it('is -1 when the input alone does not fit', () => {
    expect(affordableOutputTokens(price, input, 299_999)).toBe(-1);
    expect(affordableOutputTokens(price, input, 0)).toBe(-1);
    expect(affordableOutputTokens(price, input, 1000)).toBe(-1);
  });

  it('is 0 when the input fits exactly but not one output token', () => {
    expect(affordableOutputTokens(price, input, 300_000)).toBe(0);
    expect(affordableOutputTokens(price, input, 314_999)).toBe(0);
    expect(affordableOutputTokens(price, 0, 0)).toBe(0);
  });

  it('is the most output tokens the remainder pays for, an exact fit included', () => {
    expect(affordableOutputTokens(price, input, 315_000)).toBe(1);
    expect(affordableOutputTokens(price, input, 450_000)).toBe(10);
    expect(affordableOutputTokens(price, input, 449_999)).toBe(9);
    expect(affordableOutputTokens(price, input, 464_999)).toBe(10);
    expect(affordableOutputTokens(price, 0, 15_000 * 1000)).toBe(1000);
  });

  it('is unlimited (MAX_SAFE_INTEGER) when output is free and the input fits', () => {
    const free: Price = { inputPerMTok: 3, outputPerMTok: 0 };
    expect(affordableOutputTokens(free, input, 300_000)).toBe(Number.MAX_SAFE_INTEGER);
    expect(affordableOutputTokens(free, input, 1e9)).toBe(Number.MAX_SAFE_INTEGER);
    expect(affordableOutputTokens(free, input, 299_999)).toBe(-1);
  });

  it('steps down where costNano would round the whole call above the remainder', () => {
    // $0.1111 per MTok out: in exact arithmetic 9_000_900_090 output tokens cost exactly $999.999999999
    // (999_999_999_999 nano-USD), but costNano, what the call is charged, says one nano-USD more in
    // binary floating point. The clamp must allow only what costNano charges within the remainder.
    const odd: Price = { inputPerMTok: 0.136, outputPerMTok: 0.1111 };
    const remaining = 999_999_999_999;
    expect(costNano(odd, { inputTokens: 0, outputTokens: 9_000_900_090 })).toBe(remaining + 1);
    expect(costNano(odd, { inputTokens: 0, outputTokens: 9_000_900_089 })).toBeLessThanOrEqual(remaining);
    expect(affordableOutputTokens(odd, 0, remaining)).toBe(9_000_900_089);
    // The same with input: 79 tokens cost 10_744 nano-USD.
    expect(affordableOutputTokens(odd, 79, remaining + 10_744)).toBe(9_000_900_089);
  });

  it('always returns the most tokens whose costNano fits the remainder', () => {
    const prices: Price[] = [
      { inputPerMTok: 3, outputPerMTok: 15 },
      { inputPerMTok: 0.136, outputPerMTok: 18.013 },
      { inputPerMTok: 2.413, outputPerMTok: 0.552 },
      { inputPerMTok: 3.382, outputPerMTok: 0.067 },
      { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      { inputPerMTok: 1.1, outputPerMTok: 4.4 },
      { inputPerMTok: 0.136, outputPerMTok: 0.1111 },
    ];
    const cases: Array<[number, number]> = [
      [79, 30_788_442_786],
      [200, 818_896_290_296],
      [208, 945_928_982_899],
      [1000, 123_456_789],
      [7, 10_000],
      [0, 999_999_999_999],
      [79, 1_000_000_010_743],
    ];
    let checked = 0;
    for (const p of prices) {
      for (const [inputTokens, remaining] of cases) {
        const tokens = affordableOutputTokens(p, inputTokens, remaining);
        expect(Number.isInteger(tokens)).toBe(true);
        if (tokens < 0) {
          expect(tokens).toBe(-1);
          expect(costNano(p, { inputTokens, outputTokens: 0 })).toBeGreaterThan(remaining);
          checked++;
          continue;
        }
        expect(costNano(p, { inputTokens, outputTokens: tokens })).toBeLessThanOrEqual(remaining);
        expect(costNano(p, { inputTokens, outputTokens: tokens + 1 })).toBeGreaterThan(remaining);
        checked++;
      }
    }
    expect(checked).toBe(prices.length * cases.length);
  });
});
