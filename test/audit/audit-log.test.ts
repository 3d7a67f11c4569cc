import { describe, expect, it, vi } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import type { AuditEvent, StoredEvent } from '../../src/store/audit.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import type { AuditSink } from '../../src/store/audit-sink.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

/** A sink whose batches settle in reverse order of arrival, to prove the log still keeps order. */
function slowSink(): AuditSink & { events: StoredEvent[]; batches: number[] } {
  const inner = createMemoryAuditSink();
  const batches: number[] = [];
  let delay = 30;
  return {
    ...inner,
    events: inner.events,
    batches,
    async appendBatch(events: readonly AuditEvent[]) {
      batches.push(events.length);
      await new Promise((r) => setTimeout(r, (delay -= 10) > 0 ? delay : 0));
      return inner.appendBatch(events);
    },
  };
}

describe('AuditLog', () => {
  it('appends in the order recorded, stamping time from the clock', async () => {
    const clock = new FakeClock();
    const sink = slowSink();
    const log = createAuditLog({ sink, clock });
    log.record({ type: 'run.started', run: 'r1' });
    log.record({ type: 'call.allowed', run: 'r1', time: 42 });
    log.record({ type: 'run.completed', run: 'r1' });
    expect(log.pending).toBe(3);
    await log.flush();
    expect(log.pending).toBe(0);
    expect(sink.events.map((e) => [e.seq, e.type, e.time])).toEqual([
      [1, 'run.started', clock.now()],
      [2, 'call.allowed', 42],
      [3, 'run.completed', clock.now()],
    ]);
  });

  it('snapshots the event when recorded, not when stored', async () => {
    const sink = slowSink();
    const log = createAuditLog({ sink });
    const details = { args: { to: 'a@example.com' } };
    log.record({ type: 'call.allowed', details });
    details.args.to = 'changed@evil.test';
    await log.flush();
    expect(sink.events[0].details).toEqual({ args: { to: 'a@example.com' } });
  });

  it('never throws into the caller; a failed batch is kept, reported once, and written on the retry in order', async () => {
    const inner = createMemoryAuditSink();
    let fail = true;
    const sink: AuditSink = {
      ...inner,
      async appendBatch(events) {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        return inner.appendBatch(events);
      },
    };
    const errors: string[] = [];
    const log = createAuditLog({ sink, onError: (e) => errors.push((e as Error).message) });
    expect(() => log.record({ type: 'call.allowed' })).not.toThrow();
    log.record({ type: 'call.refused', code: 'limit.steps' });
    await log.flush(); // the first try failed: the events wait
    expect(errors).toEqual(['disk full']);
    expect(log.state()).toMatchObject({ state: 'degraded', waiting: 2, lastError: 'disk full' });
    await vi.waitFor(() => expect(inner.events.map((e) => e.type)).toEqual(['call.allowed', 'call.refused']));
    expect(inner.events.map((e) => e.wseq)).toEqual([1, 2]);
    expect(log.state()).toMatchObject({ state: 'ok', waiting: 0 });
    expect(await inner.verify()).toMatchObject({ ok: true });
  });

  it('groups the events of one flush window into one batch, numbered by the writer', async () => {
    const sink = slowSink();
    const log = createAuditLog({ sink, flushMs: 20 });
    for (let i = 0; i < 7; i++) log.record({ type: 'call.allowed', details: { i } });
    await log.flush();
    expect(sink.batches).toEqual([7]);
    expect(sink.events.map((e) => [e.seq, e.writer, e.wseq])).toEqual(Array.from({ length: 7 }, (_, i) => [i + 1, log.writer, i + 1]));
  });

  it('writes a full batch at once and never more than maxBatch in one', async () => {
    const sink = slowSink();
    const log = createAuditLog({ sink, flushMs: 60_000, maxBatch: 3 });
    for (let i = 0; i < 8; i++) log.record({ type: 'call.allowed', details: { i } });
    await log.flush();
    expect(sink.batches.every((n) => n <= 3)).toBe(true);
    expect(sink.events.map((e) => e.details?.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops past its bound with a loud audit.gap record that verify accepts as declared', async () => {
    const inner = createMemoryAuditSink();
    let down = true;
    const sink: AuditSink = {
      ...inner,
      async appendBatch(events) {
        if (down) throw new Error('unreachable');
        return inner.appendBatch(events);
      },
    };
    const errors: string[] = [];
    const log = createAuditLog({ sink, maxEvents: 3, onFull: 'drop', onError: (e) => errors.push((e as Error).message) });
    for (let i = 0; i < 6; i++) log.record({ type: 'call.allowed', details: { i } });
    expect(log.admitting).toBe(true); // drop: calls go on
    expect(log.state()).toMatchObject({ waiting: 3, dropped: 3 });
    expect(errors.some((m) => /dropped from number 4/.test(m))).toBe(true);
    down = false;
    await vi.waitFor(() => expect(inner.events.length).toBe(4));
    const gap = inner.events[3]!;
    expect(gap).toMatchObject({ type: 'audit.gap', wseq: 7, details: { writer: log.writer, ranges: [[4, 6]], count: 3 } });
    const result = await inner.verify();
    expect(result).toMatchObject({ ok: true, gaps: [{ writer: log.writer, from: 4, to: 6, declaredBy: 4 }] });
  });

  it('fail-closed: stops admitting at 90 % of the bound and keeps the rest for calls in flight', async () => {
    const inner = createMemoryAuditSink();
    const sink: AuditSink = { ...inner, appendBatch: async () => Promise.reject(new Error('unreachable')) };
    const log = createAuditLog({ sink, maxEvents: 10, onError: () => {} });
    for (let i = 0; i < 8; i++) log.record({ type: 'call.allowed' });
    expect(log.admitting).toBe(true);
    log.record({ type: 'call.allowed' });
    expect(log.admitting).toBe(false);
    expect(log.state().state).toBe('refusing');
    // A refusal caused by the bound itself does not eat the room kept for calls in flight.
    log.record({ type: 'call.refused', code: 'store.unavailable', details: { auditGate: true } });
    log.record({ type: 'call.allowed', run: 'in-flight' });
    expect(log.state()).toMatchObject({ waiting: 10, dropped: 1 });
    await log.close();
  });

  it('survives an onError or onAppend that throws', async () => {
    const sink = createMemoryAuditSink();
    const log = createAuditLog({
      sink,
      onAppend: () => {
        throw new Error('listener');
      },
      onError: () => {
        throw new Error('handler');
      },
    });
    log.record({ type: 'call.allowed' });
    log.record({ type: 'call.allowed' });
    await expect(log.flush()).resolves.toBeUndefined();
    expect(sink.events.length).toBe(2);
  });

  it('applies per-record redaction fields on top of the configured ones', async () => {
    const sink = createMemoryAuditSink();
    const log = createAuditLog({ sink, redactFields: ['password'] });
    log.record({ type: 'call.allowed', details: { args: { password: 'x', pin: '1234', note: 'ok' } } }, { redactFields: ['args.pin'] });
    log.record({ type: 'call.allowed', details: { args: { pin: '9999' } } });
    await log.flush();
    expect(sink.events[0].details).toEqual({ args: { password: '[REDACTED]', pin: '[REDACTED]', note: 'ok' } });
    expect(sink.events[1].details).toEqual({ args: { pin: '9999' } });
  });

  it('reports records after close instead of throwing', async () => {
    const errors: unknown[] = [];
    const log = createAuditLog({ sink: createMemoryAuditSink(), onError: (e) => errors.push(e) });
    await log.close();
    log.record({ type: 'call.allowed' });
    expect(errors).toHaveLength(1);
  });
});
