/**
 * The retention section of the store contract (run by contract.ts against every backend): pruning
 * runs and their ledger detail keeps every run total exact. Store-agnostic: the Store interface only;
 * pruning on one handle and reading on the twin (another process or replica) where there is one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord, RunTotals, Store } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1, 12);
const MINUTE = 60_000;
const DIMS = ['cost', 'steps', 'total_tokens'] as const;

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return { id, agent: 'agent-a', tenant: 'tenant-a', ancestors: [], depth: 0, startedAt: T0, deadline: T0 + 60 * MINUTE, status: 'running', ...over };
}

export interface RetentionPair {
  a: Store;
  b: Store;
  close(): Promise<void>;
}

export function retentionSections(name: string, open: () => Promise<RetentionPair>): void {
  describe(`store contract: ${name}: retention`, () => {
    let p: RetentionPair;
    let seq = 0;
    beforeEach(async () => {
      p = await open();
    });
    afterEach(async () => {
      await p.close();
    });

    /** Reserve and settle `amount` of `dim` on every run account named. */
    async function spend(runIds: string[], dim: string, amount: number, now = T0 + 1000) {
      const id = `ret-${++seq}`;
      const charges = runIds.map((r) => ({ key: `run:${r}`, dim, amount, code: 'limit.cost' as const }));
      expect(await p.a.ledger.reserve({ id, charges, expiresAt: now + MINUTE, now })).toEqual({ ok: true });
      const settled = await p.a.ledger.settle({ id, actual: charges.map(() => amount), now });
      expect(settled.ok).toBe(true);
    }

    /** Every total the contract promises: all runs, by tenant, by agent. */
    async function allTotals(store: Store): Promise<RunTotals[]> {
      return Promise.all([
        store.runs.totals(DIMS),
        store.runs.totals(DIMS, { tenant: 'tenant-a' }),
        store.runs.totals(DIMS, { tenant: 'tenant-b' }),
        store.runs.totals(DIMS, { agent: 'agent-a' }),
        store.runs.totals(DIMS, { agent: 'agent-b' }),
        store.runs.totals(DIMS, { tenant: 'tenant-a', agent: 'agent-b' }),
      ]);
    }

    async function fixture() {
      await p.a.runs.create(run('A'));
      await p.a.runs.create(run('B', { tenant: 'tenant-b', agent: 'agent-b', startedAt: T0 - 86_400_000 }));
      await p.a.runs.create(run('C', { parentId: 'A', ancestors: ['A'], depth: 1 }));
      await p.a.runs.create(run('D'));
      await spend(['A'], 'cost', 100);
      await spend(['A'], 'steps', 2);
      await spend(['C', 'A'], 'cost', 30);
      await spend(['B'], 'cost', 7);
      await spend(['B'], 'total_tokens', 1234);
      await spend(['B'], 'call:fingerprint', 1);
      await spend(['D'], 'cost', 5);
      await p.a.ledger.trackRepeat('run:A:output', 'same');
      await p.a.ledger.trackRepeat('run:A:output', 'same');
      await p.a.runs.end('A', 'completed', T0 + MINUTE);
      await p.a.runs.end('C', 'stopped', T0 + MINUTE, 'limit.cost', 'over');
      await p.a.runs.end('B', 'completed', T0 + 2 * MINUTE);
    }

    it('totals count root runs: their accounts hold their sub-runs’ usage', async () => {
      await fixture();
      expect(await p.b.runs.totals(DIMS)).toEqual({ runs: 3, used: { cost: 142, steps: 2, total_tokens: 1234 } });
      expect(await p.b.runs.totals(DIMS, { tenant: 'tenant-b' })).toEqual({ runs: 1, used: { cost: 7, steps: 0, total_tokens: 1234 } });
      expect(await p.b.runs.totals(DIMS, { agent: 'nobody' })).toEqual({ runs: 0, used: { cost: 0, steps: 0, total_tokens: 0 } });
    });

    it('rolling ended runs into period totals drops their detail and changes no total', async () => {
      await fixture();
      const before = await allTotals(p.b);
      expect(await p.a.runs.prune({ rollBefore: T0 + 5 * MINUTE, dims: DIMS })).toEqual({ rolled: 3, deleted: 0 });
      expect(await allTotals(p.b)).toEqual(before);
      // The detail is gone: the accounts read zero, the repeat tracker starts over.
      const [a, b, d] = await p.b.ledger.balances(
        [
          { key: 'run:A', dim: 'cost' },
          { key: 'run:B', dim: 'call:fingerprint' },
          { key: 'run:D', dim: 'cost' },
        ],
        T0 + 5 * MINUTE,
      );
      expect([a!.used, b!.used, d!.used]).toEqual([0, 0, 5]);
      expect(await p.b.ledger.trackRepeat('run:A:output', 'same')).toBe(1);
      // The records stay until their own age.
      expect((await p.b.runs.get('A'))?.status).toBe('completed');
      expect(await p.b.runs.list()).toHaveLength(4);
      // Nothing left to roll.
      expect(await p.a.runs.prune({ rollBefore: T0 + 5 * MINUTE, dims: DIMS })).toEqual({ rolled: 0, deleted: 0 });
      expect(await allTotals(p.b)).toEqual(before);
    });

    it('deleting ended runs rolls them first; running runs and later ends are untouched', async () => {
      await fixture();
      const before = await allTotals(p.b);
      // B ended at +2 min, A and C at +1 min: a cut at +90 s takes A and C only.
      expect(await p.a.runs.prune({ deleteBefore: T0 + 90_000, dims: DIMS })).toEqual({ rolled: 2, deleted: 2 });
      expect(await p.b.runs.get('A')).toBeUndefined();
      expect(await p.b.runs.get('C')).toBeUndefined();
      expect((await p.b.runs.list()).map((r) => r.id).sort()).toEqual(['B', 'D']);
      expect(await p.b.runs.list({ agent: 'agent-a' })).toHaveLength(1);
      expect(await p.b.runs.list({ tenant: 'tenant-a' })).toHaveLength(1);
      expect(await allTotals(p.b)).toEqual(before);
      expect(await p.a.runs.prune({ rollBefore: T0 + 5 * MINUTE, deleteBefore: T0 + 5 * MINUTE, dims: DIMS })).toEqual({ rolled: 1, deleted: 1 });
      expect((await p.b.runs.list()).map((r) => r.id)).toEqual(['D']);
      expect(await allTotals(p.b)).toEqual(before);
      // D goes on spending and ends; its usage joins the totals, then survives its own cut.
      await spend(['D'], 'cost', 11, T0 + 6 * MINUTE);
      await p.a.runs.end('D', 'completed', T0 + 7 * MINUTE);
      const later = await p.b.runs.totals(DIMS);
      expect(later).toEqual({ runs: 3, used: { cost: 153, steps: 2, total_tokens: 1234 } });
      expect(await p.a.runs.prune({ deleteBefore: T0 + 8 * MINUTE, dims: DIMS })).toEqual({ rolled: 1, deleted: 1 });
      expect(await p.b.runs.list()).toEqual([]);
      expect(await p.b.runs.totals(DIMS)).toEqual(later);
    });

    it('prunes in batches of at most `limit`', async () => {
      for (let i = 0; i < 5; i++) {
        await p.a.runs.create(run(`R${i}`, { startedAt: T0 + i }));
        await spend([`R${i}`], 'cost', i + 1);
        await p.a.runs.end(`R${i}`, 'completed', T0 + MINUTE + i);
      }
      const before = await p.b.runs.totals(DIMS);
      expect(before).toEqual({ runs: 5, used: { cost: 15, steps: 0, total_tokens: 0 } });
      const cut = { deleteBefore: T0 + 2 * MINUTE, dims: DIMS, limit: 2 };
      expect(await p.a.runs.prune(cut)).toEqual({ rolled: 2, deleted: 2 });
      expect(await p.a.runs.prune(cut)).toEqual({ rolled: 2, deleted: 2 });
      expect(await p.a.runs.prune(cut)).toEqual({ rolled: 1, deleted: 1 });
      expect(await p.a.runs.prune(cut)).toEqual({ rolled: 0, deleted: 0 });
      expect(await p.b.runs.totals(DIMS)).toEqual(before);
      expect(await p.b.runs.list()).toEqual([]);
    });
  });
}
