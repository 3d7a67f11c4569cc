import { describe, expect, it } from 'vitest';
import { ConfigError, createGuard, parseConfig, type GuardError } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 12 item 6: an org-level allow ceiling, like an SCP. effective = agent allows ∩ ceiling − forbids
 * (IAM vector I11: identity Allow ec2:*, SCP allows only s3:* → ec2:RunInstances DENY).
 */
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );
const tool = (name: string) => ({ tool: name, args: {}, execute: () => 'done' });

describe('the allow ceiling (issue 12 item 6)', () => {
  it('I11: the agent allows every model and tool; the ceiling allows only some: the rest is denied', async () => {
    const guard = createGuard({
      config: baseConfig({ allow: { models: ['*'], tools: ['*'] } }, { ceiling: { models: ['sim-small'], tools: ['demo.read_*'] } } as never),
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hi')))).toBe('ok');
    const outside = (await run.callModel(ask('hi', 'sim-pricey')).catch((e: unknown) => e)) as GuardError;
    expect(outside.code).toBe('policy.denied');
    expect(outside.details.policies).toEqual(['ceiling:models']);
    expect(await code(run.callTool(tool('demo.read_file')))).toBe('ok');
    expect(await code(run.callTool(tool('demo.write_file')))).toBe('policy.denied');
    expect(guard.modelsFor('bot')).toEqual(['sim-small']);
    await guard.close();
  });

  it('the ceiling grants nothing: outside the agent’s allows is still denied; a forbid inside the ceiling still wins', async () => {
    const guard = createGuard({
      config: baseConfig({ allow: { models: ['sim-small'], tools: ['demo.read_file'] }, deny: { tools: ['demo.read_file'] } }, {
        ceiling: { models: ['*'], tools: ['demo.*'] },
      } as never),
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hi', 'sim-pricey')))).toBe('policy.denied');
    expect(await code(run.callTool(tool('demo.read_file')))).toBe('policy.denied');
    expect(await code(run.callTool(tool('demo.search')))).toBe('policy.denied');
    expect(await code(run.callModel(ask('hi')))).toBe('ok');
    await guard.close();
  });

  it('a kind the ceiling does not list is not limited; an empty list allows nothing of that kind', async () => {
    const guard = createGuard({ config: baseConfig({ allow: { models: ['*'], tools: ['*'] } }, { ceiling: { tools: [] } } as never) });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hi', 'sim-pricey')))).toBe('ok');
    expect(await code(run.callTool(tool('demo.read_file')))).toBe('policy.denied');
    await guard.close();
  });

  it('ceiling is a config key: its entries are checked like allow lists', () => {
    expect(parseConfig(baseConfig({}, { ceiling: { models: ['sim-*'] } } as never)).ceiling).toEqual({ models: ['sim-*'] });
    expect(() => parseConfig(baseConfig({}, { ceiling: { modles: ['x'] } } as never))).toThrow(ConfigError);
  });
});
