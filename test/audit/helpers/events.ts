import type { AuditEvent } from '../../../src/store/audit.ts';

export const T0 = Date.UTC(2026, 0, 1);

/** Six varied events: two runs, two agents, two tenants, allowed and refused calls, a kill, a breaker change. */
export function sampleEvents(): AuditEvent[] {
  return [
    { type: 'run.started', time: T0, run: 'r1', agent: 'support-bot', tenant: 'acme' },
    {
      type: 'call.allowed',
      time: T0 + 1000,
      run: 'r1',
      agent: 'support-bot',
      tenant: 'acme',
      action: 'invokeModel',
      resource: 'sim-small',
      usage: { inputTokens: 120, outputTokens: 30 },
      costUsd: 0.000036,
    },
    {
      type: 'call.refused',
      time: T0 + 2000,
      run: 'r1',
      agent: 'support-bot',
      tenant: 'acme',
      code: 'policy.denied',
      action: 'callTool',
      resource: 'demo.write_file',
      details: { policyIds: ['default-deny'], args: { path: '/etc/passwd' } },
    },
    {
      type: 'call.refused',
      time: T0 + 3000,
      run: 'r2',
      agent: 'billing-bot',
      tenant: 'globex',
      code: 'budget.exhausted',
      action: 'invokeModel',
      resource: 'gpt-4o-mini',
      details: { limit: 50, used: 50, scope: 'tenant:globex' },
    },
    {
      type: 'kill',
      time: T0 + 4000,
      agent: 'billing-bot',
      tenant: 'globex',
      code: 'kill.switch',
      action: 'kill',
      resource: 'agent:billing-bot',
      details: { by: 'ops', reason: 'runaway' },
    },
    { type: 'breaker.changed', time: T0 + 5000, resource: 'provider:sim', details: { from: 'closed', to: 'open' } },
  ];
}
