/**
 * Guard.budgetsFor: which periodic budget lines a run's calls are charged against (its tenant's, its
 * agent's, its key's), in the window the call's time falls in — a new day starts at UTC midnight
 * exactly, whatever other periods the run also counts against — and the default alert thresholds.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardError, type GuardEvent } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

const KEY = 'sk-test-bot-0001';
const DAY_MS = 86_400_000;

describe('budget lines', () => {
  it("a call counts against the tenant's, the agent's and the key's budgets, in the window of its own time", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 59, 59));
    const config = baseConfig(
      {
        keys: [{ key: KEY, budgets: [{ period: 'day', maxCostUsd: 20 }] }],
        budgets: [{ period: 'month', maxCostUsd: 50 }],
        limits: { maxDurationMs: 7 * DAY_MS, maxIdenticalOutputs: 100 },
      },
      { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 10 }] } } } as never,
    );
    const guard = createGuard({ config, clock });
    const keyId = (await guard.principal(KEY)).key!.id;
    const run = await guard.startRun({ key: KEY, id: 'r' });
    const used = async (...accounts: string[]) =>
      (
        await guard.store.ledger.balances(
          accounts.map((key) => ({ key, dim: 'cost' })),
          clock.now(),
        )
      ).map((b) => b.used);
    const runCost = async () => (await used('run:r@bot'))[0]!;
    const accounts = [
      'budget:tenant:acme:day:2026-01-01',
      'budget:tenant:acme:day:2026-01-02',
      `budget:key:${keyId}:day:2026-01-01`,
      `budget:key:${keyId}:day:2026-01-02`,
      'budget:agent:bot:month:2026-01',
    ];

    await run.callModel(ask('the last second of the day'));
    const first = await runCost();
    expect(first).toBeGreaterThan(0);
    expect(await used(...accounts)).toEqual([first, 0, first, 0, first]);

    // Midnight exactly is the next day, for the day budgets; the month budget goes on.
    clock.set(Date.UTC(2026, 0, 2));
    await run.callModel(ask('the first instant of the next day'));
    const second = (await runCost()) - first;
    expect(second).toBeGreaterThan(0);
    expect(await used(...accounts)).toEqual([first, second, first, second, first + second]);

    // A clock stepped back an hour (an NTP correction) charges the window that hour falls in.
    clock.set(Date.UTC(2026, 0, 1, 23));
    await run.callModel(ask('back in time'));
    const third = (await runCost()) - first - second;
    expect(third).toBeGreaterThan(0);
    expect(await used(...accounts)).toEqual([first + third, second, first + third, second, first + second + third]);
    await guard.close();
  });

  it("a day budget rolls over at midnight though the agent's month budget does not", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 10, 12));
    const config = baseConfig(
      { budgets: [{ period: 'month', maxCostUsd: 50 }], limits: { maxDurationMs: 7 * DAY_MS, maxIdenticalOutputs: 1_000, maxSteps: 1_000 } },
      { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.02 }] } } } as never,
    );
    const guard = createGuard({ config, clock });
    const run = await guard.startRun({ agent: 'bot' });
    let refusal: GuardError | undefined;
    for (let i = 0; i < 200 && !refusal; i++) {
      await run.callModel({ ...ask(`[sim:long] essay ${i}`, 'sim-pricey'), max_tokens: 20 }).catch((e: GuardError) => (refusal = e));
    }
    expect(refusal).toMatchObject({ code: 'budget.exhausted', details: { scope: 'tenant:acme' } });
    expect(refusal?.message).toMatch(/^the tenant:acme day budget cannot pay for this call/);
    clock.set(Date.UTC(2026, 0, 11));
    await expect(run.callModel({ ...ask('a new day', 'sim-pricey'), max_tokens: 20 })).resolves.toBeTruthy();
    await guard.close();
  });

  it('a budget without alertAt alerts at 50 % and 80 % (the call that would reach 100 % is refused)', async () => {
    const config = baseConfig({ limits: { maxIdenticalOutputs: 1_000, maxSteps: 1_000 } }, {
      tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.1 }] } },
    } as never);
    const guard = createGuard({ config, clock: new FakeClock(Date.UTC(2026, 0, 1)) });
    const thresholds: number[] = [];
    guard.on((e: GuardEvent) => {
      if (e.type === 'budget.threshold' && e.scope === 'tenant:acme' && e.window === '2026-01-01') thresholds.push(e.threshold);
    });
    const run = await guard.startRun({ agent: 'bot' });
    let refusal: GuardError | undefined;
    for (let i = 0; i < 400 && !refusal; i++) {
      await run.callModel({ ...ask(`[sim:long] essay ${i}`, 'sim-pricey'), max_tokens: 20 }).catch((e: GuardError) => (refusal = e));
    }
    expect(refusal?.code).toBe('budget.exhausted');
    expect(thresholds).toEqual([0.5, 0.8]);
    await guard.close();
  });
});
