/**
 * A reservation whose store call failed after the store made it (a Redis script that timed out on the
 * client but ran on the server: seen under load in test/replicas/shared-limits.test.ts, where one
 * `store.unavailable` left a pricey call's maximum and a step reserved) is released at once, not held
 * until its lease expires.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore } from '../../src/index.ts';
import { windowId } from '../../src/core/periods.ts';
import type { Store } from '../../src/store/store.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * The store makes the next reservation, then its call fails as a client-side timeout would. Records the
 * lines it reserved and what they held right after it was made.
 */
function reservesThenTimesOut(store: Store) {
  const reserve = store.ledger.reserve.bind(store.ledger);
  const seen: { lines: Array<{ key: string; dim: string }>; heldWhenFailed?: number[] } = { lines: [] };
  store.ledger.reserve = async (req) => {
    const result = await reserve(req);
    if (seen.heldWhenFailed === undefined) {
      seen.lines = req.charges.map(({ key, dim }) => ({ key, dim }));
      seen.heldWhenFailed = await held(store, seen.lines);
      throw new Error('Command timed out');
    }
    return result;
  };
  return seen;
}

const config = baseConfig({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 5 }] } } });

async function held(store: Store, lines: Array<{ key: string; dim: string }>) {
  return (await store.ledger.balances(lines, Date.now())).map((b) => b.reserved);
}

describe('a reservation with an unknown outcome is released', () => {
  it('model call: refused with store.unavailable, and nothing stays reserved', async () => {
    const store = createMemoryStore();
    const seen = reservesThenTimesOut(store);
    const guard = createGuard({ config, store });
    try {
      const run = await guard.startRun({ agent: 'bot' });
      await expect(run.callModel(ask('hello'))).rejects.toMatchObject({ code: 'store.unavailable' });
      // The step, the tokens and the cost on the run and on the tenant's budget were reserved when it failed...
      expect(seen.lines).toContainEqual({ key: `run:${run.id}`, dim: 'steps' });
      expect(seen.lines).toContainEqual({ key: `budget:tenant:acme:day:${windowId('day', Date.now())}`, dim: 'cost' });
      expect(seen.heldWhenFailed!.every((amount) => amount > 0)).toBe(true);
      // ...and are released with the refusal.
      expect(await held(store, seen.lines)).toEqual(seen.lines.map(() => 0));
      // The next call is admitted and settled as usual.
      await run.callModel(ask('hello again'));
      expect(await held(store, seen.lines)).toEqual(seen.lines.map(() => 0));
    } finally {
      await guard.close();
    }
  });

  it('tool call: refused with store.unavailable, and nothing stays reserved', async () => {
    const store = createMemoryStore();
    const seen = reservesThenTimesOut(store);
    const guard = createGuard({ config, store });
    try {
      const run = await guard.startRun({ agent: 'bot' });
      const execute = async () => 'found';
      await expect(run.callTool({ tool: 'kb.search', args: { q: 'x' }, execute })).rejects.toMatchObject({ code: 'store.unavailable' });
      expect(seen.lines.some((l) => l.key === `run:${run.id}`)).toBe(true);
      expect(seen.heldWhenFailed!.every((amount) => amount > 0)).toBe(true);
      expect(await held(store, seen.lines)).toEqual(seen.lines.map(() => 0));
      expect((await run.callTool({ tool: 'kb.search', args: { q: 'y' }, execute })).result).toBe('found');
    } finally {
      await guard.close();
    }
  });
});
