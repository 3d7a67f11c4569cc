import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, describeConfig, loadConfigFile, parseConfig, parseConfigText } from '../../src/index.ts';

function problems(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const minimal = {
  providers: { sim: { kind: 'simulated' } },
  models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: {} },
  agents: { 'support-bot': { tenant: 'acme', keys: ['sk-support-0001'] } },
};

describe('configuration', () => {
  it('applies safe default limits to an agent that sets none', () => {
    const config = parseConfig(minimal);
    expect(config.agents['support-bot']!.limits).toEqual(DEFAULT_LIMITS);
    expect(config.store).toEqual({ kind: 'sqlite', path: '.fmguard/state.db' });
  });

  it('merges agent limits over the defaults field by field', () => {
    const config = parseConfig({
      ...minimal,
      defaults: { limits: { maxSteps: 10 } },
      agents: { 'support-bot': { tenant: 'acme', limits: { maxCostUsd: 0.5 } } },
    });
    const limits = config.agents['support-bot']!.limits;
    expect(limits.maxSteps).toBe(10);
    expect(limits.maxCostUsd).toBe(0.5);
    expect(limits.maxDurationMs).toBe(DEFAULT_LIMITS.maxDurationMs);
  });

  it('names the path and what was expected', () => {
    const found = problems(() =>
      parseConfig({ ...minimal, agents: { 'support-bot': { tenant: 'acme', limits: { maxSteps: -3, maxStep: 4, maxDurationMs: 'soon' } } } }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'agents.support-bot.limits.maxSteps', message: 'expected a positive integer' },
        { path: 'agents.support-bot.limits.maxStep', message: 'unknown key' },
        { path: 'agents.support-bot.limits.maxDurationMs', message: expect.stringContaining('expected a positive duration') },
      ]),
    );
  });

  it('checks references between sections', () => {
    const found = problems(() =>
      parseConfig({
        ...minimal,
        models: { m: { provider: 'nope', inputPerMTok: 1, outputPerMTok: 1, fallbacks: ['ghost'] } },
        agents: { a: { tenant: 'nobody', keys: ['sk-dup-key-0001'] }, b: { tenant: 'acme', keys: ['sk-dup-key-0001'] } },
      }),
    );
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['models.m.provider', 'models.m.fallbacks[0]', 'agents.a.tenant', 'agents.b.keys[0]']));
  });

  it('validates retry policies with Step Functions rules', () => {
    const found = problems(() =>
      parseConfig({
        ...minimal,
        agents: { a: { tenant: 'acme', retry: [{ errorEquals: ['all'] }, { errorEquals: ['upstream.error'], backoffRate: 0.5 }, { errorEquals: ['bogus'] }] } },
      }),
    );
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['agents.a.retry[0].errorEquals', 'agents.a.retry[1].backoffRate', 'agents.a.retry[2].errorEquals[0]']));
  });

  it('expands ${ENV} references and reports unset ones at their path', () => {
    const env = { BOT_KEY: 'sk-from-env-1234', PRICE: '2' };
    const config = parseConfig({ ...minimal, agents: { a: { tenant: 'acme', keys: ['${BOT_KEY}', '${OTHER_KEY:-sk-fallback-9999}'] } } }, { env });
    expect(config.agents.a!.keys.map((k) => k.secret)).toEqual(['sk-from-env-1234', 'sk-fallback-9999']);
    expect(problems(() => parseConfig({ ...minimal, agents: { a: { tenant: 'acme', keys: ['${MISSING_KEY}'] } } }, { env }))).toEqual([
      { path: 'agents.a.keys[0]', message: 'environment variable MISSING_KEY is not set' },
    ]);
  });

  it('parses YAML and reports syntax errors and missing files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmguard-config-'));
    const file = join(dir, 'fmguard.yaml');
    writeFileSync(file, 'store: { kind: memory }\nagents:\n  bot: { tenant: acme, limits: { maxSteps: 5 } }\ntenants: { acme: {} }\n');
    expect(loadConfigFile(file).agents.bot!.limits.maxSteps).toBe(5);
    expect(problems(() => parseConfigText('agents: [unclosed'))[0]!.message).toMatch(/not valid YAML or JSON/);
    expect(problems(() => parseConfigText('- a list')).at(0)).toEqual({ path: '', message: 'expected a mapping at the top level' });
    expect(problems(() => loadConfigFile(join(dir, 'missing.yaml')))).toEqual([{ path: '', message: 'file not found' }]);
    const error = (() => {
      try {
        loadConfigFile(join(dir, 'missing.yaml'));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error!.message).toContain('missing.yaml');
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts durations as strings', () => {
    const config = parseConfig({ ...minimal, agents: { a: { tenant: 'acme', limits: { maxDurationMs: '2m' }, timeouts: { model: { idleMs: '5s' } } } } });
    expect(config.agents.a!.limits.maxDurationMs).toBe(120_000);
    expect(config.agents.a!.timeouts.model.idleMs).toBe(5000);
  });

  it('masks secrets when describing the resolved config', () => {
    const config = parseConfig({
      ...minimal,
      providers: { ...minimal.providers, openai: { kind: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-live-supersecret-abcd' } },
      server: { adminToken: 'admin-token-very-secret' },
    });
    const text = JSON.stringify(describeConfig(config));
    expect(text).not.toContain('supersecret');
    expect(text).not.toContain('sk-support-0001');
    expect(text).not.toContain('very-secret');
    expect(text).toContain('****abcd');
  });
});
