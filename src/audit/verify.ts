import { GENESIS_HASH, hashEvent } from './chain.ts';
import type { AuditCheckpoint, ChainHead, StoredEvent, TamperProblem, VerifyOptions, VerifyResult, WriterGap } from '../store/audit.ts';
import { findGaps, findRepeat } from './gaps.ts';

/** One stored record, in storage order, as a sink read it. */
export interface VerifyEntry {
  /** Undefined when the stored text is not a well-formed event. */
  event: StoredEvent | undefined;
  /** Set by a sink whose index columns disagree with the event body (a column was edited). */
  mismatch?: string;
}

export interface VerifyChainOptions extends VerifyOptions {
  /**
   * The head the sink recorded beside the events (SQLite keeps one), or null when it should have
   * one and it is missing. Undefined when the sink keeps none (JSONL, memory).
   */
  head?: ChainHead | null;
  /** The checkpoint of pruned events: the walk starts after it (its seq + 1, linked to its hash). */
  checkpoint?: AuditCheckpoint;
  /** Leave writer numbering to the caller (a writer's events may span several chains: see `verifyWriters`). */
  skipWriters?: boolean;
}

/**
 * Walk a chain in storage order and name the first problem. Checks, per record: the body is an event
 * whose hash matches (else changed); its seq is the next one (else reordered / removed / inserted,
 * told apart by whether the expected seq appears elsewhere); it links to the previous hash (else the
 * previous event was rewritten with a recomputed hash: changed); its index columns agree (else changed).
 */
export function verifyChain(entries: readonly VerifyEntry[], options: VerifyChainOptions = {}): VerifyResult {
  const { checkpoint } = options;
  const start = checkpoint ? { checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash } } : {};
  if (checkpoint && options.checkSignature && !options.checkSignature(checkpoint)) {
    return {
      ok: false,
      seq: checkpoint.seq,
      problem: 'unsigned',
      message: `the checkpoint at event ${checkpoint.seq} is not signed with this key (forged, or another key)`,
      position: 0,
      checked: 0,
      ...start,
    };
  }
  const present = new Set<number>();
  for (const entry of entries) if (entry.event) present.add(entry.event.seq);

  // After a retention cut the walk starts at the checkpoint, as if it were the event before.
  let prev: ChainHead | undefined = checkpoint && { seq: checkpoint.seq, hash: checkpoint.hash };
  for (let i = 0; i < entries.length; i++) {
    const position = i + 1;
    const expected = (prev?.seq ?? 0) + 1;
    const fail = (seq: number, problem: TamperProblem, message: string): VerifyResult => ({
      ok: false,
      seq,
      problem,
      message,
      position,
      checked: i,
      ...start,
    });
    const { event, mismatch } = entries[i];

    if (!event) return fail(expected, 'changed', `record ${position} is not a well-formed event (expected event ${expected})`);
    if (hashEvent(event) !== event.hash) return fail(event.seq, 'changed', `event ${event.seq} does not match its hash`);
    if (event.seq < expected) {
      return fail(event.seq, 'inserted', `event ${event.seq} appears again at record ${position} (after event ${expected - 1})`);
    }
    if (event.seq > expected) {
      if (present.has(expected)) {
        return fail(expected, 'reordered', `event ${expected} is out of place: event ${event.seq} stands where it should be`);
      }
      const gap = event.seq - expected;
      const what = gap === 1 ? `event ${expected} is` : `events ${expected}..${event.seq - 1} are`;
      return fail(expected, 'removed', `${what} missing (event ${event.seq} follows event ${expected - 1})`);
    }
    if (event.prevHash !== (prev?.hash ?? GENESIS_HASH)) {
      // Both hashes are self-consistent, so one of the two was rewritten and re-hashed; the earlier
      // one is the usual forgery (edit, re-hash, and the next link breaks).
      const seq = prev?.seq ?? event.seq;
      const message =
        prev && i === 0
          ? `event ${event.seq} does not link to the checkpoint of event ${prev.seq}: one of them was rewritten`
          : prev
            ? `event ${event.seq} does not link to event ${prev.seq}: event ${prev.seq} was rewritten with a recomputed hash`
            : `event ${event.seq} is first but does not start the chain`;
      return fail(seq, 'changed', message);
    }
    if (mismatch) return fail(event.seq, 'changed', `event ${event.seq}: ${mismatch}`);
    prev = event;
  }

  const count = entries.length;
  const last: ChainHead | undefined = prev ? { seq: prev.seq, hash: prev.hash } : undefined;
  const events = entries.map((e) => e.event as StoredEvent);
  const endFail = (seq: number, problem: TamperProblem, message: string): VerifyResult => ({
    ok: false,
    seq,
    problem,
    message,
    position: count + 1,
    checked: count,
    ...start,
  });

  if (options.head === null && last) {
    return endFail(last.seq + 1, 'removed', `the chain head record is missing; events after ${last.seq} may have been removed`);
  }
  if (options.head) {
    const problem = compareHead(options.head, last, 'recorded head');
    if (problem) return endFail(problem.seq, problem.problem, problem.message);
  }
  if (options.anchor) {
    const problem = compareAnchor(options.anchor, entries, checkpoint);
    if (problem) return endFail(problem.seq, problem.problem, problem.message);
  }
  const ok: VerifyResult = { ok: true, count, ...(last ? { head: last } : {}), ...start };
  if (options.skipWriters) return ok;
  const writers = verifyWriters(events, checkpoint?.writers);
  if (!writers.ok) return { ...endFail(writers.seq || count, writers.problem, writers.message), ...(writers.gaps.length > 0 ? { gaps: writers.gaps } : {}) };
  return { ...ok, ...(writers.gaps.length > 0 ? { gaps: writers.gaps } : {}) };
}

export type WritersResult =
  | { ok: true; gaps: WriterGap[] }
  | { ok: false; seq: number; problem: TamperProblem; message: string; gaps: WriterGap[]; event?: StoredEvent };

/**
 * Each writer's own numbering over events of one or more chains (a spool's writer goes on in a new
 * replica chain after a restart): a number twice is an event appended twice; a hole no `audit.gap`
 * event declares is an event lost.
 */
export function verifyWriters(events: readonly StoredEvent[], start?: Readonly<Record<string, number>>): WritersResult {
  // Each writer's events in its own order (chains interleave; within one chain they are in order).
  const byWriter = new Map<string, StoredEvent[]>();
  for (const event of events) {
    if (event.writer === undefined || event.wseq === undefined) continue;
    let list = byWriter.get(event.writer);
    if (!list) byWriter.set(event.writer, (list = []));
    list.push(event);
  }
  const ordered = [...byWriter.values()].flatMap((list) => list.sort((a, b) => a.wseq! - b.wseq!));
  const repeat = findRepeat(ordered);
  if (repeat) {
    const message = `event ${repeat.seq} repeats number ${repeat.wseq} of writer ${repeat.writer} (appended twice)`;
    return { ok: false, seq: repeat.seq, problem: 'inserted', message, gaps: [], event: repeat };
  }
  const gaps = findGaps(ordered, start);
  const undeclared = gaps.find((gap) => gap.declaredBy === undefined);
  if (!undeclared) return { ok: true, gaps };
  const what = undeclared.from === undeclared.to ? `event ${undeclared.from}` : `events ${undeclared.from}..${undeclared.to}`;
  const at = ordered.find((e) => e.writer === undeclared.writer && e.wseq! > undeclared.to);
  return {
    ok: false,
    seq: at?.seq ?? 0,
    problem: 'gap',
    message: `writer ${undeclared.writer} numbered ${what} but the log does not have them, and no audit.gap event says they were dropped`,
    gaps,
    ...(at ? { event: at } : {}),
  };
}

interface EndProblem {
  seq: number;
  problem: TamperProblem;
  message: string;
}

function compareHead(head: ChainHead, last: ChainHead | undefined, name: string): EndProblem | undefined {
  const lastSeq = last?.seq ?? 0;
  if (head.seq > lastSeq) {
    const what = head.seq === lastSeq + 1 ? `event ${head.seq} is` : `events ${lastSeq + 1}..${head.seq} are`;
    return { seq: lastSeq + 1, problem: 'removed', message: `${what} missing from the end (${name} is ${head.seq})` };
  }
  if (head.seq < lastSeq) {
    return { seq: head.seq + 1, problem: 'inserted', message: `event ${head.seq + 1} was never appended (${name} is ${head.seq})` };
  }
  if (last && head.hash !== last.hash) {
    return { seq: last.seq, problem: 'changed', message: `event ${last.seq} was rewritten with a recomputed hash (${name} differs)` };
  }
  return undefined;
}

function compareAnchor(anchor: ChainHead, entries: readonly VerifyEntry[], checkpoint: ChainHead | undefined): EndProblem | undefined {
  // The chain verified, so entries are in seq order starting after the checkpoint (or at 1).
  const base = checkpoint?.seq ?? 0;
  if (checkpoint && anchor.seq === base) {
    return anchor.hash === checkpoint.hash
      ? undefined
      : { seq: anchor.seq, problem: 'changed', message: `the checkpoint of event ${anchor.seq} differs from the anchor` };
  }
  if (anchor.seq < base) return undefined; // pruned: the checkpoint stands for it
  const event = entries[anchor.seq - base - 1]?.event;
  if (!event) {
    return { seq: entries.length + 1, problem: 'removed', message: `the log ends before the anchored event ${anchor.seq}` };
  }
  if (event.hash !== anchor.hash) {
    return { seq: anchor.seq, problem: 'changed', message: `event ${anchor.seq} differs from the anchor` };
  }
  return undefined;
}
