import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, createSimModel, ProviderError, type ChatRequest, type GuardError, type GuardEvent, type ModelProvider } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 12 item 1: every model that is actually called — the requested one, each retry, a fallback —
 * passes the same policy check, with the run's principal and the request's real context.
 */
const dir = mkdtempSync(join(tmpdir(), 'fmguard-model-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const withBackup = {
  models: {
    'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, fallbacks: ['sim-backup'] },
    'sim-backup': { provider: 'sim-2', inputPerMTok: 0.3, outputPerMTok: 1.2 },
  },
  providers: { sim: { kind: 'simulated' }, 'sim-2': { kind: 'simulated' } },
};

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );

describe('the policy check of every model actually called (issue 12 item 1)', () => {
  it('a forbid on the fallback model that tests the output cap stops the fallback (the made-up context had maxTokens 1)', async () => {
    const global = policyFile(
      'fallback-cap.cedar',
      `@id("backup-small-answers-only")
forbid (principal, action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"sim-backup")
when { context.maxTokens > 100 };
`,
    );
    const guard = createGuard({ config: baseConfig({}, { ...withBackup, policies: { global } } as never) });
    const refused: GuardEvent[] = [];
    guard.on((e) => {
      if (e.type === 'call.refused') refused.push(e);
    });
    await guard.breakers.open('model:sim-small', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    // The request's cap (4096 by default) is what the fallback is checked with: forbidden.
    expect(await code(run.callModel(ask('hello')))).toBe('breaker.open');
    // A request within the forbid's bound may use it.
    const small = await run.callModel({ ...ask('hello'), max_tokens: 50 });
    expect(small.servedBy).toBe('sim-backup');
    expect(refused.map((e) => e.type === 'call.refused' && e.code)).toEqual(['breaker.open']);
    await guard.close();
  });

  it('a forbid on the fallback model by the hour of day stops it (the made-up context said hour 0)', async () => {
    const global = policyFile(
      'fallback-hours.cedar',
      `@id("no-backup-in-office-hours")
forbid (principal, action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"sim-backup")
when { context.hourUtc >= 9 && context.hourUtc < 18 };
`,
    );
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const guard = createGuard({ config: baseConfig({}, { ...withBackup, policies: { global } } as never), clock });
    await guard.breakers.open('model:sim-small', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello')))).toBe('breaker.open');
    await guard.close();
  });

  it('an unconditional forbid on the fallback stops it; without the forbid the fallback serves', async () => {
    const global = policyFile(
      'fallback-never.cedar',
      `@id("never-backup")
forbid (principal, action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"sim-backup");
`,
    );
    const guard = createGuard({ config: baseConfig({}, { ...withBackup, policies: { global } } as never) });
    await guard.breakers.open('model:sim-small', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hello')))).toBe('breaker.open');
    await guard.close();
  });

  it('a retry is checked again: a forbid that starts to hold during the backoff stops the retry', async () => {
    const global = policyFile(
      'retry-hours.cedar',
      `@id("no-sim-small-after-11")
forbid (principal, action == Fmguard::Action::"invokeModel", resource == Fmguard::Model::"sim-small")
when { context.hourUtc >= 11 };
`,
    );
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 59, 59));
    const sim = createSimModel({ clock });
    let calls = 0;
    const provider: ModelProvider = {
      name: 'sim',
      complete: (req: ChatRequest, opts) => {
        calls++;
        if (calls === 1) return Promise.reject(new ProviderError('overloaded', { status: 503 }));
        return sim.complete(req, opts);
      },
      stream: (req, opts) => sim.stream(req, opts),
    };
    const guard = createGuard({
      config: baseConfig({}, {
        policies: { global },
        defaults: { retry: [{ errorEquals: ['upstream.error'], intervalMs: 2000, maxAttempts: 2, backoffRate: 1 }] },
      } as never),
      clock,
      providers: { sim: provider },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = code(run.callModel(ask('hello')));
    await clock.advance(5000);
    expect(await pending).toBe('policy.denied');
    // The first attempt ran (at 10:59:59); the retry at 11:00:01 was refused before the upstream.
    expect(calls).toBe(1);
    await guard.close();
  });
});
