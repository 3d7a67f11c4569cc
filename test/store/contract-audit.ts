import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditSink } from '../../src/store/audit-sink.ts';
import { sampleEvents, T0 } from '../audit/helpers/events.ts';

export interface AuditFactory {
  make(): AuditSink | Promise<AuditSink>;
  /** Open the same log again (persistent sinks only). */
  reopen?: (sink: AuditSink) => AuditSink | Promise<AuditSink>;
  /** False for a sink that keeps working after close (the in-memory one). */
  refusesAfterClose?: boolean;
  cleanup?: () => Promise<void> | void;
}

/** The audit section of the store contract: any sink, fresh from `factory` for every test. */
export function auditSections(name: string, factory: () => AuditFactory): void {
  describe(`store contract: ${name}: audit`, () => {
    let f: AuditFactory;
    let sink: AuditSink;
    beforeEach(async () => {
      f = factory();
      sink = await f.make();
      for (const event of sampleEvents()) await sink.append(event);
    });
    afterEach(async () => {
      await sink.close();
      await f.cleanup?.();
    });

    const seqs = async (filter: Parameters<AuditSink['query']>[0]) => (await sink.query(filter)).map((e) => e.seq);

    it('returns the stored event from append, numbered and chained', async () => {
      const stored = await sink.append({ type: 'run.completed', time: T0 + 9000, run: 'r1' });
      expect(stored).toMatchObject({ seq: 7, type: 'run.completed', run: 'r1' });
      expect(stored.prevHash).toMatch(/^[0-9a-f]{64}$/);
      expect((await sink.tail(1))[0]).toEqual(stored);
    });

    it('queries newest first by default, oldest first on request', async () => {
      expect(await seqs({})).toEqual([6, 5, 4, 3, 2, 1]);
      expect(await seqs({ order: 'asc' })).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await seqs({ limit: 2 })).toEqual([6, 5]);
      expect(await seqs({ limit: 2, order: 'asc' })).toEqual([1, 2]);
    });

    it('filters by run, agent, tenant, code and type', async () => {
      expect(await seqs({ run: 'r1', order: 'asc' })).toEqual([1, 2, 3]);
      expect(await seqs({ agent: 'billing-bot', order: 'asc' })).toEqual([4, 5]);
      expect(await seqs({ tenant: 'acme', order: 'asc' })).toEqual([1, 2, 3]);
      expect(await seqs({ code: 'budget.exhausted' })).toEqual([4]);
      expect(await seqs({ type: 'call.refused', order: 'asc' })).toEqual([3, 4]);
      expect(await seqs({ type: ['kill', 'breaker.changed'], order: 'asc' })).toEqual([5, 6]);
      expect(await seqs({ run: 'r1', type: 'call.refused' })).toEqual([3]);
      expect(await seqs({ run: 'nope' })).toEqual([]);
    });

    it('filters by time range, from inclusive and to exclusive', async () => {
      expect(await seqs({ from: T0 + 2000, to: T0 + 4000, order: 'asc' })).toEqual([3, 4]);
      expect(await seqs({ from: T0 + 4000 })).toEqual([6, 5]);
      expect(await seqs({ to: T0 + 1000 })).toEqual([1]);
    });

    it('returns the full event body, as appended', async () => {
      const [event] = await sink.query({ code: 'policy.denied' });
      expect(event).toMatchObject(sampleEvents()[2]);
    });

    it('tails the last n events, oldest first', async () => {
      expect((await sink.tail(2)).map((e) => e.seq)).toEqual([5, 6]);
      expect((await sink.tail(100)).length).toBe(6);
      expect(await sink.tail(0)).toEqual([]);
    });

    it('keeps appends made concurrently in one valid chain', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sink.append({ type: 'call.allowed', time: T0 + i, details: { i } })));
      expect(await sink.verify()).toMatchObject({ ok: true, count: 26 });
    });

    if (factory().reopen) {
      it('continues the chain after reopening the log', async () => {
        await sink.close();
        sink = await f.reopen!(sink);
        expect((await sink.append({ type: 'run.completed', time: T0 + 9000 })).seq).toBe(7);
        expect(await sink.verify()).toMatchObject({ ok: true, count: 7 });
      });
    }

    it('refuses to work after close', async () => {
      await sink.close();
      if (f.refusesAfterClose !== false) await expect(sink.append(sampleEvents()[0])).rejects.toThrow(/closed/);
    });
  });
}
