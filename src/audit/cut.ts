import type { AuditCheckpoint, StoredEvent } from '../store/audit.ts';

/** Where a retention cut falls in one chain, before it is signed. */
export interface CutPlan {
  /** Events to delete: those with seq up to and including this one. */
  through: StoredEvent;
  pruned: number;
  /** Each writer with events on both sides of the cut: its last number before it. */
  writers: Record<string, number>;
}

/**
 * Plan a cut over a chain held in memory (oldest first): the events recorded before `before`, as a
 * prefix (the cut stops at the first event recorded later, so it never leaves a hole in the chain).
 */
export function planCut(events: readonly StoredEvent[], before: number, previous?: AuditCheckpoint): CutPlan | undefined {
  let n = 0;
  while (n < events.length && events[n]!.time < before) n++;
  if (n === 0) return undefined;
  const lastBefore: Record<string, number> = { ...(previous?.writers ?? {}) };
  for (const event of events.slice(0, n)) if (event.writer !== undefined && event.wseq !== undefined) lastBefore[event.writer] = event.wseq;
  const after = new Set(events.slice(n).flatMap((e) => (e.writer !== undefined ? [e.writer] : [])));
  const writers: Record<string, number> = {};
  for (const [writer, wseq] of Object.entries(lastBefore)) if (after.has(writer)) writers[writer] = wseq;
  return { through: events[n - 1]!, pruned: n, writers };
}

/** The checkpoint a plan stands for, unsigned. */
export function checkpointOf(chain: string, plan: CutPlan, now: number): Omit<AuditCheckpoint, 'sig'> {
  return { chain, seq: plan.through.seq, hash: plan.through.hash, time: now, writers: plan.writers };
}
