import type { StoredEvent, WriterGap } from '../store/audit.ts';

/** The ranges an `audit.gap` event declares dropped: `details.ranges` as [from, to] pairs of its writer. */
export function declaredRanges(event: StoredEvent): Array<[number, number]> {
  if (event.type !== 'audit.gap' || !event.writer) return [];
  const ranges = event.details?.ranges;
  if (!Array.isArray(ranges)) return [];
  return ranges.filter(
    (r): r is [number, number] => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] <= r[1],
  );
}

/**
 * Holes in each writer's own numbering, in chain order. `start` is each writer's last number before
 * the first event here (a retention checkpoint's `writers`); a writer not named there starts at 1.
 * A hole covered by `audit.gap` events of the same writer is declared.
 */
export function findGaps(events: readonly StoredEvent[], start: Readonly<Record<string, number>> = {}): WriterGap[] {
  const last = new Map<string, number>();
  const gaps: WriterGap[] = [];
  const declared: Array<{ writer: string; from: number; to: number; seq: number }> = [];
  for (const event of events) {
    const { writer, wseq } = event;
    if (writer === undefined || wseq === undefined) continue;
    for (const [from, to] of declaredRanges(event)) declared.push({ writer, from, to, seq: event.seq });
    const before = last.get(writer) ?? (Object.hasOwn(start, writer) ? start[writer]! : 0);
    if (wseq > before + 1) gaps.push({ writer, from: before + 1, to: wseq - 1 });
    if (wseq > before) last.set(writer, wseq);
  }
  for (const gap of gaps) {
    // Declared when the gap events (in one or more declarations) cover every number of the hole.
    let next = gap.from;
    let by: number | undefined;
    for (const d of declared.filter((x) => x.writer === gap.writer).sort((a, b) => a.from - b.from)) {
      if (d.from > next) break;
      if (d.to >= next) {
        next = d.to + 1;
        by = d.seq;
      }
    }
    if (next > gap.to && by !== undefined) gap.declaredBy = by;
  }
  return gaps;
}

/** The first event whose writer number repeats or goes back (appended twice). */
export function findRepeat(events: readonly StoredEvent[]): StoredEvent | undefined {
  const last = new Map<string, number>();
  for (const event of events) {
    if (event.writer === undefined || event.wseq === undefined) continue;
    const before = last.get(event.writer);
    if (before !== undefined && event.wseq <= before) return event;
    last.set(event.writer, event.wseq);
  }
  return undefined;
}
