import { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/core/money.ts';
import { windowId } from '../../src/core/periods.ts';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';

afterEach(closeAll);

const BUDGET_USD = 5;

describe('500 concurrent requests (half streamed) against one tenant day budget', () => {
  it('settled spend never exceeds the budget, and nothing stays reserved', async () => {
    const gw = await startGateway({
      config: gatewayConfig({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: BUDGET_USD }] } } }),
      sim: { firstTokenLatencyMs: 20, tokensPerSecond: 3000 },
    });
    const client = gw.client({ maxRetries: 0 });
    // sim-pricey: $100 / $400 per million tokens, so each call may cost up to ~$0.04 and the budget
    // pays for roughly a third of them.
    const request = (i: number) => ({ model: 'sim-pricey', max_tokens: 100, messages: [{ role: 'user' as const, content: `question number ${i}` }] });
    let paidUsd = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        try {
          if (i % 2 === 0) {
            const res = await client.chat.completions.create(request(i));
            paidUsd += res.usage!.prompt_tokens * 100e-6 + res.usage!.completion_tokens * 400e-6;
            return 'ok';
          }
          const stream = await client.chat.completions.create({ ...request(i), stream: true, stream_options: { include_usage: true } });
          for await (const chunk of stream) {
            if (chunk.usage) paidUsd += chunk.usage.prompt_tokens * 100e-6 + chunk.usage.completion_tokens * 400e-6;
          }
          return 'ok';
        } catch (error) {
          return error instanceof APIError ? String(error.code) : `unexpected: ${String(error)}`;
        }
      }),
    );
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
    // Only successes and budget refusals: no 500, no lost stream.
    // limit.contended: refused while other calls held the rest (retryable), settled spend leaving room.
    expect(
      Object.keys(counts)
        .filter((k) => k !== 'limit.contended')
        .sort(),
    ).toEqual(['budget.exhausted', 'ok']);
    expect(counts.ok).toBeGreaterThan(50);
    expect(counts['budget.exhausted']).toBeGreaterThan(50);

    const key = `budget:tenant:acme:day:${windowId('day', Date.now())}`;
    const [balance] = await gw.guard.store.ledger.balances([{ key, dim: 'cost' }], Date.now());
    expect(balance!.reserved).toBe(0);
    expect(balance!.used).toBeLessThanOrEqual(usdToNano(BUDGET_USD));
    // The ledger holds exactly what the agents were told they spent (usage in bodies and streams).
    expect(balance!.used / 1e9).toBeCloseTo(paidUsd, 6);
  });
});
