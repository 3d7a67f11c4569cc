import { afterEach, describe, expect, it } from 'vitest';
import type { GuardEvent } from '../../src/index.ts';
import { toAuditRecord } from '../../src/wiring/audit-bridge.ts';
import { ask, closeAll, gatewayConfig, startGateway } from './helpers.ts';

afterEach(closeAll);

/**
 * Issue 12 item 8: a retry budget that caps a call's attempts says so — in a response header, the
 * error body and the audit event — instead of capping silently.
 */
describe('a retry budget that caps attempts says so', () => {
  const retry = [{ errorEquals: ['upstream.error'], intervalMs: 1, maxAttempts: 3 }];

  it('over HTTP: x-fmguard-retry-denied, fmguard.retryDenied and the message; the audit record carries it', async () => {
    const gw = await startGateway({
      config: gatewayConfig({ retry }, { defaults: { retry, retryBudget: { ratio: 0, minRetries: 0 } } } as never),
    });
    const events: GuardEvent[] = [];
    gw.guard.on((e) => events.push(e));
    const response = await gw.post(ask('[sim:fail 1 503] hello'));
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fmguard-retry-denied')).toBe('budget');
    expect(response.headers.get('x-should-retry')).toBe('false');
    const body = (await response.json()) as { error: { message: string; fmguard: Record<string, unknown> } };
    expect(body.error.fmguard).toMatchObject({ retryDenied: 'budget', attempts: 1 });
    expect(body.error.message).toMatch(/retries capped by the retry budget after 1 attempt/);
    // The retriers would have allowed 3 retries: only the budget stopped them, and the audit says so.
    const failed = events.find((e) => e.type === 'call.failed');
    expect(failed).toMatchObject({ retryDenied: 'budget', attempts: 1 });
    expect(toAuditRecord(failed!)?.details).toMatchObject({ retryDenied: 'budget', attempts: 1 });
  });

  it('retries the retriers themselves exhaust are not reported as the budget’s', async () => {
    const gw = await startGateway({ config: gatewayConfig({ retry }, { defaults: { retry } } as never) });
    const response = await gw.post(ask('[sim:fail 1 503] hello'));
    expect(response.status).toBe(502);
    expect(response.headers.get('x-fmguard-retry-denied')).toBeNull();
    const body = (await response.json()) as { error: { fmguard: Record<string, unknown> } };
    expect(body.error.fmguard.retryDenied).toBeUndefined();
    expect(body.error.fmguard.attempts).toBe(4);
  });
});
