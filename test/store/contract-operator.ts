import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';

/** What operators change at run time: budget corrections (`ledger.adjust`). */
export function operatorSections(name: string, makeStore: () => Promise<{ a: Store; b: Store; close: () => Promise<void> }>): void {
  describe(`store contract: ${name}: ledger.adjust`, () => {
    let s: { a: Store; b: Store; close: () => Promise<void> };
    beforeEach(async () => {
      s = await makeStore();
    });
    afterEach(async () => {
      await s.close();
    });
    const T0 = 1_800_000_000_000;

    it('adds to used atomically, never below 0, leaves holds alone, and is seen through every handle', async () => {
      expect(await s.a.ledger.adjust('budget:agent:x:day:1', 'cost', 5_000)).toEqual({ before: 0, after: 5_000 });
      await s.a.ledger.reserve({
        id: 'adj-1',
        charges: [{ key: 'budget:agent:x:day:1', dim: 'cost', amount: 100, code: 'budget.exhausted' }],
        expiresAt: T0 + 60_000,
        now: T0,
      });
      expect(await s.b.ledger.adjust('budget:agent:x:day:1', 'cost', -2_000)).toEqual({ before: 5_000, after: 3_000 });
      expect(await s.a.ledger.balances([{ key: 'budget:agent:x:day:1', dim: 'cost' }], T0)).toEqual([{ used: 3_000, reserved: 100 }]);
      expect(await s.a.ledger.adjust('budget:agent:x:day:1', 'cost', -Number.MAX_SAFE_INTEGER)).toEqual({ before: 3_000, after: 0 });
      expect(await s.b.ledger.adjust('budget:agent:y:day:1', 'cost', -7)).toEqual({ before: 0, after: 0 });
      // A limit is judged on the adjusted amount.
      await s.a.ledger.adjust('budget:agent:x:day:1', 'cost', 900);
      const refused = await s.b.ledger.reserve({
        id: 'adj-2',
        charges: [{ key: 'budget:agent:x:day:1', dim: 'cost', amount: 1, limit: 1_000, code: 'budget.exhausted' }],
        expiresAt: T0 + 60_000,
        now: T0,
      });
      expect(refused).toMatchObject({ ok: false, refusal: { used: 900, reserved: 100 } });
    });

    it('refuses an amount that is not a safe integer', async () => {
      await expect(s.a.ledger.adjust('k', 'cost', 1.5)).rejects.toThrow(TypeError);
      await expect(s.a.ledger.adjust('k', 'cost', Number.NaN)).rejects.toThrow(TypeError);
    });
  });
}
