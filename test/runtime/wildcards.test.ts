import { describe, expect, it } from 'vitest';
import { createGuard, type GuardError } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

/** Issue 12 item 5: `?` matches exactly one character wherever allow-lists take `*`, as in IAM (vector I3). */
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );
const tool = (name: string) => ({ tool: name, args: {}, execute: () => 'done' });

describe('the ? wildcard (issue 12 item 5)', () => {
  it('I3: img-??.png allows img-01.png, not img-001.png nor img-1.png (allow list)', async () => {
    const guard = createGuard({ config: baseConfig({ allow: { models: ['sim-small'], tools: ['files.img-??.png'] } }) });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callTool(tool('files.img-01.png')))).toBe('ok');
    expect(await code(run.callTool(tool('files.img-001.png')))).toBe('policy.denied');
    expect(await code(run.callTool(tool('files.img-1.png')))).toBe('policy.denied');
    await guard.close();
  });

  it('in deny lists, with * in the same pattern, and for models', async () => {
    const guard = createGuard({
      config: baseConfig({ allow: { models: ['sim-?????'], tools: ['demo.*'] }, deny: { tools: ['demo.?rite_*'] } }, {
        models: {
          'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 },
          'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
        },
      } as never),
    });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callModel(ask('hi')))).toBe('ok');
    expect(await code(run.callModel(ask('hi', 'sim-pricey')))).toBe('policy.denied');
    expect(await code(run.callTool(tool('demo.write_file')))).toBe('policy.denied');
    expect(await code(run.callTool(tool('demo.wwrite_file')))).toBe('ok');
    expect(await code(run.callTool(tool('demo.read_file')))).toBe('ok');
    await guard.close();
  });

  it('in the ceiling', async () => {
    const guard = createGuard({ config: baseConfig({ allow: { models: ['*'], tools: ['*'] } }, { ceiling: { tools: ['demo.read_?'] } } as never) });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await code(run.callTool(tool('demo.read_a')))).toBe('ok');
    expect(await code(run.callTool(tool('demo.read_ab')))).toBe('policy.denied');
    await guard.close();
  });
});
