import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, createSqliteStore, GuardError, type Store } from '../../src/index.ts';
import { baseConfig } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-conc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each call: 75 output tokens at $200/M and free input = exactly $0.015. */
const models = {
  'sim-pricey': { provider: 'sim', inputPerMTok: 0, outputPerMTok: 200, maxOutputTokens: 75 },
};
const request = { model: 'sim-pricey', messages: [{ role: 'user' as const, content: '[sim:long] write' }], max_tokens: 75 };

const stores: Array<[string, () => Store]> = [
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore({ path: join(dir, `state-${Math.random().toString(36).slice(2)}.db`) })],
];

describe.each(stores)('budget race on the %s store', (_name, makeStore) => {
  it('200 concurrent calls against a $1.00 run: settled <= $1.00, every refusal is limit.cost or (settled spend leaving room) limit.contended', async () => {
    const store = makeStore();
    const guard = createGuard({
      config: baseConfig({ limits: { maxCostUsd: 1, maxSteps: 1000, maxIdenticalOutputs: 1000 } }, { models } as never),
      store,
    });
    const run = await guard.startRun({ agent: 'bot' });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => run.callModel(request)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const settled = ok.reduce((sum, r) => sum + (r as PromiseFulfilledResult<{ costUsd: number }>).value.costUsd, 0);
    // Unguarded, these calls would have cost 200 x $0.015 = $3.00.
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(GuardError.isInstance(r.reason)).toBe(true);
      // Refused while other calls' holds fill the limit but settled spend leaves room: contention
      // (retryable); refused when settled spend itself leaves no room: limit.cost (terminal).
      expect(['limit.cost', 'limit.contended']).toContain(r.reason.code);
      expect(r.reason.details.limit).toBe(1);
      if (r.reason.code === 'limit.contended') {
        expect(r.reason.details.limitCode).toBe('limit.cost');
        expect((r.reason.details.settled as number) + (r.reason.details.requested as number)).toBeLessThanOrEqual(1);
      }
    }
    const usage = await run.usage();
    expect(usage.costUsd).toBeLessThanOrEqual(1);
    expect(usage.costUsd).toBeCloseTo(settled, 9);
    expect(usage.reservedCostUsd).toBe(0);
    await guard.close();
    await store.close();
  });

  it('a tenant day budget shared by 20 runs is never exceeded', async () => {
    const store = makeStore();
    const guard = createGuard({
      config: baseConfig({ limits: { maxCostUsd: 5, maxSteps: 1000, maxIdenticalOutputs: 1000 } }, {
        models,
        tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1 }] } },
      } as never),
      store,
    });
    const runs = await Promise.all(Array.from({ length: 20 }, () => guard.startRun({ agent: 'bot' })));
    const results = await Promise.allSettled(runs.flatMap((run) => Array.from({ length: 10 }, () => run.callModel(request))));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(['budget.exhausted', 'limit.contended']).toContain(r.reason.code);
    let total = 0;
    for (const run of runs) total += (await run.usage()).costUsd;
    expect(total).toBeLessThanOrEqual(1 + 1e-9);
    expect(total).toBeGreaterThan(0.5);
    await guard.close();
    await store.close();
  });
});
