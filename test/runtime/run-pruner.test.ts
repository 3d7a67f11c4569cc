/**
 * createRunPruner (src/runtime/retention.ts) against a scripted store: the prune request it builds from
 * the ages, the batches it runs until one comes back short (letting other work in between), the kill
 * switches of deleted runs it clears, and its hourly timer. The stores' own prune is tested by the
 * store contract (test/store/contract-retention.ts); `fmguard retention` and `serve` in test/retention.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRunPruner, TOTAL_DIMS } from '../../src/runtime/retention.ts';
import type { RunPruneRequest, RunPruneResult, Store } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const T0 = Date.UTC(2026, 0, 10, 12);

/** A store whose prune answers the scripted results in order, and which logs what it is asked. */
function scripted(results: RunPruneResult[], kills: string[] = [], liveRuns: string[] = []) {
  const log: string[] = [];
  const requests: RunPruneRequest[] = [];
  const cleared: string[] = [];
  const asked: string[] = [];
  const store = {
    runs: {
      prune: async (req: RunPruneRequest) => {
        requests.push(req);
        log.push(`prune ${requests.length}`);
        // Work queued by another caller while this batch runs.
        setImmediate(() => log.push(`other work after prune ${requests.length}`));
        return results.shift() ?? { rolled: 0, deleted: 0 };
      },
      get: async (id: string) => {
        asked.push(id);
        return liveRuns.includes(id) ? { id } : undefined;
      },
    },
    kills: {
      list: async () => new Map(kills.map((scope) => [scope, { reason: 'x' }])),
      clear: async (scope: string) => {
        cleared.push(scope);
      },
    },
  } as unknown as Store;
  return { store, log, requests, cleared, asked };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('what the pruner asks the store', () => {
  it('keeps the six totals dimensions: steps, tool calls, the three token counts, cost', () => {
    expect(TOTAL_DIMS).toEqual(['steps', 'tool_calls', 'input_tokens', 'output_tokens', 'total_tokens', 'cost']);
  });

  it('rolls ledger detail older than ledgerMaxAgeMs and deletes runs older than runsMaxAgeMs, 1000 runs a batch', async () => {
    const s = scripted([{ rolled: 3, deleted: 2 }]);
    const pruner = createRunPruner({ store: s.store, clock: new FakeClock(T0), runsMaxAgeMs: 5_000, ledgerMaxAgeMs: 2_000 });
    expect(await pruner.pruneNow()).toEqual({ rolled: 3, deleted: 2, killsCleared: 0 });
    expect(s.requests).toEqual([{ dims: TOTAL_DIMS, limit: 1000, rollBefore: T0 - 2_000, deleteBefore: T0 - 5_000 }]);
  });

  it('asks only for what an age is set for', async () => {
    const roll = scripted([]);
    await createRunPruner({ store: roll.store, clock: new FakeClock(T0), ledgerMaxAgeMs: 0, batch: 7 }).pruneNow();
    expect(roll.requests).toEqual([{ dims: TOTAL_DIMS, limit: 7, rollBefore: T0 }]);
    const del = scripted([]);
    await createRunPruner({ store: del.store, clock: new FakeClock(T0), runsMaxAgeMs: 1 }).pruneNow();
    expect(del.requests).toEqual([{ dims: TOTAL_DIMS, limit: 1000, deleteBefore: T0 - 1 }]);
  });

  it('with neither age set, does not call the store at all', async () => {
    const s = scripted([{ rolled: 5, deleted: 5 }], ['run:gone']);
    expect(await createRunPruner({ store: s.store, clock: new FakeClock(T0) }).pruneNow()).toEqual({ rolled: 0, deleted: 0, killsCleared: 0 });
    expect(s.log).toEqual([]);
    expect(s.asked).toEqual([]);
  });
});

describe('batches', () => {
  it('goes on while a batch comes back full (rolled or deleted), stops at the first short one, and sums them', async () => {
    const s = scripted([
      { rolled: 2, deleted: 0 },
      { rolled: 0, deleted: 2 },
      { rolled: 2, deleted: 2 },
      { rolled: 1, deleted: 1 },
      { rolled: 9, deleted: 9 },
    ]);
    const pruner = createRunPruner({ store: s.store, clock: new FakeClock(T0), runsMaxAgeMs: 0, batch: 2 });
    expect(await pruner.pruneNow()).toEqual({ rolled: 5, deleted: 5, killsCleared: 0 });
    expect(s.requests).toHaveLength(4);
  });

  it('lets other work run between two batches', async () => {
    const s = scripted([
      { rolled: 1, deleted: 0 },
      { rolled: 0, deleted: 0 },
    ]);
    await createRunPruner({ store: s.store, clock: new FakeClock(T0), ledgerMaxAgeMs: 0, batch: 1 }).pruneNow();
    expect(s.log.slice(0, 3)).toEqual(['prune 1', 'other work after prune 1', 'prune 2']);
  });
});

describe('kill switches of deleted runs', () => {
  it('clears the run: switches whose run is gone, keeps live runs and every other scope, and counts them', async () => {
    const s = scripted([{ rolled: 0, deleted: 3 }], ['global', 'tenant:acme', 'run:gone@bot', 'run:live@bot', 'agent:run:x', 'run:old@bot'], ['live@bot']);
    const pruner = createRunPruner({ store: s.store, clock: new FakeClock(T0), runsMaxAgeMs: 0 });
    expect(await pruner.pruneNow()).toEqual({ rolled: 0, deleted: 3, killsCleared: 2 });
    expect(s.asked).toEqual(['gone@bot', 'live@bot', 'old@bot']);
    expect(s.cleared).toEqual(['run:gone@bot', 'run:old@bot']);
  });

  it('leaves the switches alone when nothing was deleted (only rolled)', async () => {
    const s = scripted([{ rolled: 4, deleted: 0 }], ['run:gone@bot']);
    expect(await createRunPruner({ store: s.store, clock: new FakeClock(T0), runsMaxAgeMs: 0 }).pruneNow()).toEqual({
      rolled: 4,
      deleted: 0,
      killsCleared: 0,
    });
    expect(s.asked).toEqual([]);
    expect(s.cleared).toEqual([]);
  });
});

describe('the timer', () => {
  it('prunes once an hour by default after start, and not after stop', async () => {
    vi.useFakeTimers();
    const s = scripted([]);
    const pruner = createRunPruner({ store: s.store, clock: new FakeClock(T0), runsMaxAgeMs: 0 });
    pruner.start();
    await vi.advanceTimersByTimeAsync(3_599_999);
    expect(s.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(s.requests).toHaveLength(2);
    pruner.stop();
    await vi.advanceTimersByTimeAsync(7_200_000);
    expect(s.requests).toHaveLength(2);
  });

  it("every everyMs when given; a tick's failure goes to onError, and without one it is swallowed", async () => {
    vi.useFakeTimers();
    const failing = { runs: { prune: async () => Promise.reject(new Error('store down')) } } as unknown as Store;
    const errors: unknown[] = [];
    const pruner = createRunPruner({ store: failing, clock: new FakeClock(T0), runsMaxAgeMs: 0, everyMs: 50, onError: (e) => errors.push(e) });
    pruner.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual([new Error('store down'), new Error('store down')]);
    pruner.stop();
    const quiet = createRunPruner({ store: failing, clock: new FakeClock(T0), runsMaxAgeMs: 0, everyMs: 50 });
    quiet.start();
    await vi.advanceTimersByTimeAsync(100);
    quiet.stop();
    await expect(quiet.pruneNow()).rejects.toThrow('store down');
  });
});
