import { describe, expect, it } from 'vitest';
import { chainEvent, GENESIS_HASH, hashEvent } from '../../src/audit/chain.ts';
import type { StoredEvent } from '../../src/store/audit.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { sampleEvents } from './helpers/events.ts';

function chain(): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (const event of sampleEvents()) {
    const last = out[out.length - 1];
    out.push(chainEvent(event, last && { seq: last.seq, hash: last.hash }));
  }
  return out;
}

const verify = (events: Array<StoredEvent | undefined>, head?: { seq: number; hash: string } | null) =>
  verifyChain(
    events.map((event) => ({ event })),
    { head },
  );

describe('hash chain', () => {
  it('numbers events from 1 and links each to the previous hash', () => {
    const events = chain();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
    for (const e of events) expect(hashEvent(e)).toBe(e.hash);
  });

  it('ignores chain fields a caller tries to pass in', () => {
    const forged = chainEvent({ ...sampleEvents()[0], seq: 99, prevHash: 'x', hash: 'y' } as never, undefined);
    expect(forged.seq).toBe(1);
    expect(forged.prevHash).toBe(GENESIS_HASH);
    expect(forged.hash).toBe(hashEvent(forged));
  });

  it('verifies an untouched chain and reports its head', () => {
    const events = chain();
    expect(verify(events)).toEqual({ ok: true, count: 6, head: { seq: 6, hash: events[5].hash } });
    expect(verify([])).toEqual({ ok: true, count: 0 });
  });

  it('names a changed event', () => {
    const events = chain();
    events[2] = { ...events[2], resource: 'demo.read_file' };
    expect(verify(events)).toMatchObject({ ok: false, seq: 3, problem: 'changed', position: 3, checked: 2 });
  });

  it('names an event rewritten with a recomputed hash (the next link breaks)', () => {
    const events = chain();
    const edited = { ...events[2], costUsd: 0 };
    events[2] = { ...edited, hash: hashEvent(edited) };
    expect(verify(events)).toMatchObject({ ok: false, seq: 3, problem: 'changed', position: 4 });
  });

  it('names a removed event, and a removed run of events', () => {
    const one = chain();
    one.splice(3, 1);
    expect(verify(one)).toMatchObject({ ok: false, seq: 4, problem: 'removed', position: 4 });
    const two = chain();
    two.splice(1, 2);
    const result = verify(two);
    expect(result).toMatchObject({ ok: false, seq: 2, problem: 'removed' });
    expect(!result.ok && result.message).toContain('events 2..3');
    const first = chain().slice(1);
    expect(verify(first)).toMatchObject({ ok: false, seq: 1, problem: 'removed', position: 1 });
  });

  it('tells a reorder from a removal', () => {
    const adjacent = chain();
    [adjacent[2], adjacent[3]] = [adjacent[3], adjacent[2]];
    expect(verify(adjacent)).toMatchObject({ ok: false, seq: 3, problem: 'reordered', position: 3 });
    const apart = chain();
    [apart[1], apart[4]] = [apart[4], apart[1]];
    expect(verify(apart)).toMatchObject({ ok: false, seq: 2, problem: 'reordered', position: 2 });
    const moved = chain();
    moved.push(moved.splice(0, 1)[0]); // first event moved to the end
    expect(verify(moved)).toMatchObject({ ok: false, seq: 1, problem: 'reordered', position: 1 });
  });

  it('names a duplicated event as inserted', () => {
    const events = chain();
    events.splice(3, 0, events[2]);
    expect(verify(events)).toMatchObject({ ok: false, seq: 3, problem: 'inserted', position: 4 });
  });

  it('reports an unreadable record as changed at the seq expected there', () => {
    const events: Array<StoredEvent | undefined> = chain();
    events[1] = undefined;
    expect(verify(events)).toMatchObject({ ok: false, seq: 2, problem: 'changed', position: 2 });
  });

  it('uses a recorded head to catch a cut tail and a re-hashed last event', () => {
    const events = chain();
    const head = { seq: 6, hash: events[5].hash };
    expect(verify(events.slice(0, 4), head)).toMatchObject({ ok: false, seq: 5, problem: 'removed', position: 5 });
    const edited = { ...events[5], details: {} };
    const rehashed = [...events.slice(0, 5), { ...edited, hash: hashEvent(edited) }];
    expect(verify(rehashed, head)).toMatchObject({ ok: false, seq: 6, problem: 'changed' });
    expect(verify(events, { seq: 5, hash: events[4].hash })).toMatchObject({ ok: false, seq: 6, problem: 'inserted' });
    expect(verify(events, null)).toMatchObject({ ok: false, problem: 'removed', seq: 7 });
  });

  it('checks an anchor kept elsewhere', async () => {
    const sink = createMemoryAuditSink();
    for (const e of sampleEvents()) await sink.append(e);
    const anchor = { seq: 6, hash: sink.events[5].hash };
    expect(await sink.verify({ anchor })).toMatchObject({ ok: true });
    sink.events.pop();
    expect(await sink.verify()).toMatchObject({ ok: true, count: 5 }); // without an anchor a cut tail is invisible
    expect(await sink.verify({ anchor })).toMatchObject({ ok: false, problem: 'removed', seq: 6 });
  });
});
