/** What the alarm fleet tests share: the simulated provider's error-rate alarm and a webhook receiver. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlarmSpec } from '../../src/alarms/types.ts';

/** `sim-errors`: the simulated provider's error rate over one 10 s period, at 0.5 or more; `more` adds its actions. */
export function simErrorsAlarm(more: Partial<AlarmSpec> = {}): AlarmSpec {
  return {
    name: 'sim-errors',
    scope: 'provider:sim',
    metric: 'error_rate',
    period: '10s',
    evaluationPeriods: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 0.5,
    ...more,
  };
}

export interface HookReceiver {
  url: string;
  /** The `to` state of each webhook call, in arrival order. */
  hooks: string[];
  close(): Promise<void>;
}

/** A loopback server that records each alarm webhook call. */
export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push(String(JSON.parse(body).to));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hooks,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
