import { gatewayConfig, startGateway, type TestGateway } from '../gateway/helpers.ts';

export const ADMIN_TOKEN = 'adm-test-token-0001';

/** A real listening gateway with the admin API on, a memory audit log and one alarm. */
export function startAdminGateway(bot: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  return startGateway({
    sim: { tokensPerSecond: 200 },
    config: gatewayConfig({ approve: { tools: ['demo.send_email'] }, ...bot }, {
      server: { adminToken: ADMIN_TOKEN },
      audit: { sink: 'memory' },
      toolServers: { demo: { kind: 'builtin' } },
      tenants: {
        acme: {
          budgets: [
            { period: 'day', maxCostUsd: 5 },
            { period: 'month', maxCostUsd: 100 },
          ],
        },
      },
      alarms: [
        {
          name: 'sim-errors',
          scope: 'provider:sim',
          metric: 'error_rate',
          period: '10s',
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparison: 'GreaterThanOrEqualToThreshold',
          threshold: 0.5,
          treatMissingData: 'notBreaching',
          actions: [],
        },
      ],
      ...extra,
    } as never),
    guard: { background: false },
  });
}

/** Call the admin API; `token: null` sends none. */
export async function admin(gw: TestGateway, method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}
