import { describe, expect, it } from 'vitest';
import { formatEvents, formatVerifyResult } from '../../src/audit/format.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import { sampleEvents } from './helpers/events.ts';

describe('CLI text', () => {
  it('formats one line per event', async () => {
    const sink = createMemoryAuditSink();
    for (const e of sampleEvents()) await sink.append(e);
    const lines = formatEvents(await sink.query({ order: 'asc' })).split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[1]).toBe(
      '#2 2026-01-01T00:00:01.000Z call.allowed tenant=acme agent=support-bot run=r1 action=invokeModel resource=sim-small tokens=120/30 cost=$0.000036',
    );
    expect(lines[2]).toContain('code=policy.denied');
    expect(lines[2]).toContain('{"args":{"path":"/etc/passwd"},"policyIds":["default-deny"]}');
  });

  it('formats verify results', () => {
    expect(formatVerifyResult({ ok: true, count: 1, head: { seq: 1, hash: 'a'.repeat(64) } })).toBe(
      `OK: 1 event verified, chain intact; head #1 ${'a'.repeat(16)}`,
    );
    expect(formatVerifyResult({ ok: false, seq: 4, problem: 'removed', message: 'event 4 is missing', position: 4, checked: 3 })).toBe(
      'TAMPERED: event #4 removed (found at record 4, 3 verified before it): event 4 is missing',
    );
  });
});
