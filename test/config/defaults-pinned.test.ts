/**
 * The defaults are a promise to users (README, "Defaults are safe"): every default is pinned here to
 * its documented literal, never to the code's own constant, so changing one is a visible decision.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_POLICY } from '../../src/breakers/policy.ts';
import { DEFAULT_TIMEOUTS } from '../../src/config/resolve.ts';
import { createGuard, createSimModel, type GuardError, parseConfig } from '../../src/index.ts';

const minimal = {
  providers: { sim: { kind: 'simulated' } },
  models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: {} },
  agents: { bot: { tenant: 'acme', keys: ['sk-defaults-0001'] } },
};

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const promise = readme.slice(readme.indexOf('Defaults are safe'), readme.indexOf('## Command line')).replace(/\s+/g, ' ');

describe('documented defaults', () => {
  const limits = parseConfig(minimal).agents.bot!.limits;

  it('every run limit an agent does not set has its documented value', () => {
    expect(limits.maxSteps).toBe(50);
    expect(limits.maxCostUsd).toBe(1);
    expect(limits.maxDurationMs).toBe(600_000);
    expect(limits.maxDepth).toBe(3);
    expect(limits.maxOutputTokensPerCall).toBe(4096);
    expect(limits.maxIdenticalToolCalls).toBe(3);
    expect(limits.maxConsecutiveErrors).toBe(3);
    expect(limits.maxIdenticalOutputs).toBe(3);
    expect(limits.maxToolCalls).toBe(100);
    expect(limits.maxTotalTokens).toBe(2_000_000);
  });

  it('the README states the same values the code applies', () => {
    expect(promise).toContain(`maxSteps ${limits.maxSteps}`);
    expect(promise).toContain(`maxCostUsd ${limits.maxCostUsd}`);
    expect(promise).toContain(`maxDurationMs ${limits.maxDurationMs / 60_000} min`);
    expect(promise).toContain(`maxDepth ${limits.maxDepth}`);
    expect(promise).toContain(`${limits.maxOutputTokensPerCall} output tokens per call`);
    expect(promise).toContain(`${limits.maxIdenticalToolCalls} identical tool calls`);
    expect(promise).toContain(`${limits.maxConsecutiveErrors} consecutive errors`);
    expect(promise).toContain(`${limits.maxIdenticalOutputs} identical outputs`);
    expect(promise).toContain(
      `${DEFAULT_BREAKER_POLICY.failureThreshold} consecutive failures → open ${DEFAULT_BREAKER_POLICY.cooldownMs / 1000} s → ${DEFAULT_BREAKER_POLICY.halfOpenProbes} probes`,
    );
  });

  it('breakers and timeouts default to their documented values', () => {
    expect(DEFAULT_BREAKER_POLICY.failureThreshold).toBe(5);
    expect(DEFAULT_BREAKER_POLICY.cooldownMs).toBe(30_000);
    expect(DEFAULT_BREAKER_POLICY.halfOpenProbes).toBe(3);
    const config = parseConfig(minimal);
    expect(config.agents.bot!.timeouts).toEqual({ model: { totalMs: 120_000, firstTokenMs: 30_000, idleMs: 15_000 }, tool: { totalMs: 30_000 } });
    expect(DEFAULT_TIMEOUTS.model.idleMs).toBe(15_000);
  });

  it('an agent that sets nothing is stopped by the documented $1 cost limit', async () => {
    const guard = createGuard({
      config: {
        ...minimal,
        store: { kind: 'memory' },
        models: { 'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 } },
        agents: { bot: { tenant: 'acme', keys: ['sk-defaults-0001'], allow: { models: ['*'] } } },
      } as never,
      providers: { sim: createSimModel() },
    });
    const run = await guard.startRun({ agent: 'bot' });
    let answered = 0;
    let stop: unknown;
    // Each call costs about $0.20 (500 output tokens at $400/MTok): $1 admits 4 or 5, a $10 default would admit 49.
    for (let i = 0; i < 60 && stop === undefined; i++) {
      try {
        await run.callModel({ model: 'sim-pricey', max_tokens: 500, messages: [{ role: 'user', content: `[sim:long 500] draft ${i}` }] });
        answered++;
      } catch (error) {
        stop = error;
      }
    }
    expect((stop as GuardError).code).toBe('limit.cost');
    const spent = (await run.usage()).costUsd;
    expect(spent).toBeLessThanOrEqual(1);
    expect(spent).toBeGreaterThan(0.8); // a default of $1.20 would have admitted a 6th call
    expect(answered).toBeGreaterThanOrEqual(4);
    expect(answered).toBeLessThanOrEqual(5);
    await guard.close();
  });
});
