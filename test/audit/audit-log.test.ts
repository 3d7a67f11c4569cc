import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import type { AuditEvent, StoredEvent } from '../../src/store/audit.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import type { AuditSink } from '../../src/store/audit-sink.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

/** A sink whose appends settle in reverse order of arrival, to prove the log still keeps order. */
function slowSink(): AuditSink & { events: StoredEvent[] } {
  const inner = createMemoryAuditSink();
  let delay = 30;
  return {
    ...inner,
    events: inner.events,
    async append(event: AuditEvent) {
      await new Promise((r) => setTimeout(r, (delay -= 10) > 0 ? delay : 0));
      return inner.append(event);
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

  it('never throws into the caller; failures go to onError and later events still land', async () => {
    const inner = createMemoryAuditSink();
    let fail = true;
    const sink: AuditSink = {
      ...inner,
      async append(event) {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
        return inner.append(event);
      },
    };
    const errors: string[] = [];
    const log = createAuditLog({ sink, onError: (e, ev) => errors.push(`${(e as Error).message}:${ev.type}`) });
    expect(() => log.record({ type: 'call.allowed' })).not.toThrow();
    log.record({ type: 'call.refused', code: 'limit.steps' });
    await log.flush();
    expect(errors).toEqual(['disk full:call.allowed']);
    expect(inner.events.map((e) => e.type)).toEqual(['call.refused']);
    expect(await inner.verify()).toMatchObject({ ok: true });
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
