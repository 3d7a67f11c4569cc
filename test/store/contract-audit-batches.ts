import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sign } from '../../src/audit/anchor.ts';
import type { AuditEvent } from '../../src/store/audit.ts';
import type { AuditSink } from '../../src/store/audit-sink.ts';
import type { AuditFactory } from './contract-audit.ts';
import { T0 } from '../audit/helpers/events.ts';

const KEY = 'contract-key-contract-key-contract-key';

const numbered = (writer: string, from: number, to: number, time = T0): AuditEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ type: 'call.allowed', time: time + from + i, writer, wseq: from + i, details: { i: from + i } }));

/**
 * The audit contract for group commit, writer numbering and retention: a batch is chained in order
 * in one go; the sink says where a writer stands; verify finds holes in a writer's numbering; a
 * sink that prunes leaves a signed checkpoint that verify starts from.
 */
export function auditBatchSections(name: string, factory: () => AuditFactory): void {
  describe(`store contract: ${name}: audit batches, writers, retention`, () => {
    let f: AuditFactory;
    let sink: AuditSink;
    beforeEach(async () => {
      f = factory();
      sink = await f.make();
    });
    afterEach(async () => {
      await sink.close();
      await f.cleanup?.();
    });

    it('appends a batch in order, chained, and reports the head', async () => {
      expect((await sink.head()).head).toBeUndefined();
      const stored = await sink.appendBatch(numbered('w-a', 1, 5));
      expect(stored.map((e) => [e.seq, e.wseq])).toEqual([1, 2, 3, 4, 5].map((n) => [n, n]));
      for (let i = 1; i < stored.length; i++) expect(stored[i]!.prevHash).toBe(stored[i - 1]!.hash);
      expect((await sink.head()).head).toEqual({ seq: 5, hash: stored[4]!.hash });
      expect(await sink.appendBatch([])).toEqual([]);
      expect(await sink.verify()).toMatchObject({ ok: true, count: 5 });
    });

    it("says how far each writer's events reached", async () => {
      await sink.appendBatch([...numbered('w-a', 1, 3), ...numbered('w-b', 1, 2)]);
      expect(await sink.writerSeq('w-a')).toBe(3);
      expect(await sink.writerSeq('w-b')).toBe(2);
      expect(await sink.writerSeq('w-none')).toBe(0);
    });

    it("fails verify on a hole in a writer's numbering, and accepts one an audit.gap event declares", async () => {
      await sink.appendBatch([...numbered('w-a', 1, 2), ...numbered('w-a', 5, 5)]);
      const result = await sink.verify();
      expect(result).toMatchObject({ ok: false, problem: 'gap', gaps: [{ writer: 'w-a', from: 3, to: 4 }] });
      await sink.append({ type: 'audit.gap', time: T0 + 9, writer: 'w-a', wseq: 6, details: { writer: 'w-a', ranges: [[3, 4]], count: 2 } });
      expect(await sink.verify()).toMatchObject({ ok: true, gaps: [{ writer: 'w-a', from: 3, to: 4, declaredBy: 4 }] });
    });

    it('fails verify when a writer number repeats (an event appended twice)', async () => {
      await sink.appendBatch([...numbered('w-a', 1, 3), ...numbered('w-a', 3, 3)]);
      expect(await sink.verify()).toMatchObject({ ok: false, problem: 'inserted', seq: 4 });
    });

    it('prunes by age behind a signed checkpoint that verify starts from, and keeps chaining', async () => {
      if (!sink.prune) return;
      await sink.appendBatch([...numbered('w-a', 1, 6), ...numbered('w-b', 1, 2, T0 + 100)]);
      const [cut] = await sink.prune({ before: T0 + 5, now: T0 + 1000, sign: (c) => sign(KEY, c) });
      expect(cut).toMatchObject({ pruned: 4, checkpoint: { seq: 4, writers: { 'w-a': 4 } } });
      expect(cut!.checkpoint.sig).toBe(sign(KEY, cut!.checkpoint));
      expect(await sink.checkpoints!()).toEqual([cut!.checkpoint]);
      expect((await sink.query({ order: 'asc' })).map((e) => e.seq)).toEqual([5, 6, 7, 8]);
      expect(await sink.verify()).toMatchObject({ ok: true, count: 4, checkpoint: { seq: 4 } });
      expect(await sink.writerSeq('w-a')).toBe(6);
      const next = await sink.append({ type: 'run.completed', time: T0 + 2000, writer: 'w-a', wseq: 7 });
      expect(next.seq).toBe(9);
      expect(await sink.verify()).toMatchObject({ ok: true, count: 5 });
      // The checkpoint's signature is checked with the key; another key's is refused.
      expect(await sink.verify({ checkSignature: (c) => sign(KEY, c) === c.sig })).toMatchObject({ ok: true });
      expect(await sink.verify({ checkSignature: (c) => sign('another-key-another-key-another-key', c) === c.sig })).toMatchObject({
        ok: false,
        problem: 'unsigned',
      });
      // A second cut carries the writers over, and nothing is pruned twice.
      const [again] = await sink.prune({ before: T0 + 1500, now: T0 + 3000, sign: (c) => sign(KEY, c) });
      expect(again).toMatchObject({ pruned: 4, checkpoint: { seq: 8, writers: { 'w-a': 6 } } });
      expect(await sink.verify()).toMatchObject({ ok: true, count: 1, checkpoint: { seq: 8 } });
      expect(await sink.prune({ before: T0 + 1500, now: T0 + 4000, sign: (c) => sign(KEY, c) })).toEqual([]);
    });
  });
}
