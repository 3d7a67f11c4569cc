import { describe, expect, it } from 'vitest';
import { ConfigError, createGuard, parseConfig, ProviderError, type GuardError } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 12 item 2: as in Step Functions and Lambda, nothing is retried without a Retry. A tool is
 * retried only when the config gives it a retry AND marks it idempotent; model calls keep theirs.
 */
const modelRetry = [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 3, backoffRate: 1 }];

function failingTool() {
  const state = { calls: 0 };
  const execute = () => {
    state.calls++;
    throw new ProviderError('the CRM answered 503', { status: 503 });
  };
  return { state, execute };
}

const servers = (tools: Record<string, unknown>, server: Record<string, unknown> = {}) => ({
  toolServers: { crm: { kind: 'http', url: 'https://crm.example/mcp', tools, ...server } },
});

async function callOnce(config: Parameters<typeof createGuard>[0]['config'], clock: FakeClock, tool: string) {
  const guard = createGuard({ config, clock });
  const run = await guard.startRun({ agent: 'bot' });
  const { state, execute } = failingTool();
  const pending = run.callTool({ tool, args: {}, execute }).catch((e: GuardError) => e);
  await clock.advance(10_000);
  const error = await pending;
  await guard.close();
  return { calls: state.calls, error };
}

describe('tool retries (issue 12 item 2)', () => {
  it('by default a failing tool is called once, even when the agent retries model calls (it was called 3 times)', async () => {
    const clock = new FakeClock();
    const config = baseConfig({ retry: modelRetry, limits: { maxConsecutiveErrors: 10 } }, { defaults: {} } as never);
    const { calls, error } = await callOnce(config, clock, 'crm.refund');
    expect(calls).toBe(1);
    expect((error as GuardError).code).toBe('upstream.error');
  });

  it('the default retriers (no `retry` anywhere) retry no tool', async () => {
    const clock = new FakeClock();
    const config = baseConfig({ limits: { maxConsecutiveErrors: 10 } }, { defaults: {} } as never);
    expect((await callOnce(config, clock, 'crm.refund')).calls).toBe(1);
  });

  it('a tool with a retry and idempotent: true is retried per its own retriers', async () => {
    const clock = new FakeClock();
    const config = baseConfig(
      { retry: [], limits: { maxConsecutiveErrors: 10 } },
      servers({ lookup: { idempotent: true, retry: [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 2 }] } }) as never,
    );
    const { calls, error } = await callOnce(config, clock, 'crm.lookup');
    expect(calls).toBe(3);
    expect((error as GuardError).details.attempts).toBe(3);
  });

  it('a server-level retry applies to its idempotent tools only', async () => {
    const clock = new FakeClock();
    const config = baseConfig(
      { limits: { maxConsecutiveErrors: 10 } },
      servers({ refund: { idempotent: false } }, { idempotent: true, retry: [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 1 }] }) as never,
    );
    expect((await callOnce(config, clock, 'crm.lookup')).calls).toBe(2);
    expect((await callOnce(config, clock, 'crm.refund')).calls).toBe(1);
  });

  it('a retry on a tool not marked idempotent is a config error naming its path', () => {
    const config = baseConfig({}, servers({ refund: { retry: [{ errorEquals: ['upstream.error'] }] } }) as never);
    let error: unknown;
    try {
      parseConfig(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toContainEqual(
      expect.objectContaining({ path: 'toolServers.crm.tools.refund.retry', message: expect.stringContaining('idempotent: true') }),
    );
  });

  it('model calls keep their configured retries', async () => {
    const clock = new FakeClock();
    const guard = createGuard({ config: baseConfig({ retry: modelRetry }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel(ask('[sim:fail 1 503] hello')).catch((e: GuardError) => e);
    await clock.advance(10_000);
    const error = (await pending) as GuardError;
    expect(error.code).toBe('upstream.error');
    expect(error.details.attempts).toBe(4);
    await guard.close();
  });
});
