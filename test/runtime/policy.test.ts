import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, type GuardError, type GuardEvent } from '../../src/index.ts';
import { PolicyConfigError } from '../../src/policy/index.ts';
import { ask, baseConfig } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const emailSchema = { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' } }, required: ['to'] };
const toolServers = {
  demo: {
    kind: 'builtin',
    tools: { send_email: { inputSchema: emailSchema }, read_file: {}, write_file: {} },
  },
};
const run = async (guard: ReturnType<typeof createGuard>) => guard.startRun({ agent: 'bot' });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: GuardError) => e.code,
  );
const tool = (name: string, args: unknown = {}) => ({ tool: name, args, execute: () => 'done' });

describe('Cedar policies in the runtime', () => {
  it('an agent with no policy can call nothing (default deny)', async () => {
    const guard = createGuard({ config: baseConfig({ allow: undefined }) });
    const r = await run(guard);
    const error = (await r.callModel(ask('hi')).catch((e: unknown) => e)) as GuardError;
    expect(error.code).toBe('policy.denied');
    expect(error.status).toBe(403);
    expect(await code(r.callTool(tool('demo.read_file')))).toBe('policy.denied');
    expect(guard.modelsFor('bot')).toEqual([]);
    await guard.close();
  });

  it('shorthand wildcards: demo.read_* allows demo.read_file, not demo.write_file; models by pattern', async () => {
    const guard = createGuard({ config: baseConfig({ allow: { models: ['sim-s*'], tools: ['demo.read_*'] } }, { toolServers } as never) });
    const r = await run(guard);
    expect(await code(r.callTool(tool('demo.read_file')))).toBe('ok');
    expect(await code(r.callTool(tool('demo.write_file')))).toBe('policy.denied');
    expect(await code(r.callModel(ask('hi')))).toBe('ok');
    expect(await code(r.callModel(ask('hi', 'sim-pricey')))).toBe('policy.denied');
    expect(guard.modelsFor('bot')).toEqual(['sim-small']);
    await guard.close();
  });

  it('an org-wide forbid beats the agent’s permit, and a condition on a tool argument decides', async () => {
    const global = join(dir, 'global.cedar');
    writeFileSync(
      global,
      `@id("mail-stays-internal")
forbid (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.send_email")
unless { context.input has to && context.input.to like "*@example.com" };
`,
    );
    const guard = createGuard({
      config: baseConfig({ allow: { models: ['*'], tools: ['demo.*'] } }, { toolServers, policies: { global } } as never),
    });
    const r = await run(guard);
    expect(await code(r.callTool(tool('demo.send_email', { to: 'ana@example.com', subject: 'hi' })))).toBe('ok');
    const refused = (await r.callTool(tool('demo.send_email', { to: 'eve@evil.test', subject: 'hi' })).catch((e: unknown) => e)) as GuardError;
    expect(refused.code).toBe('policy.denied');
    expect(refused.details.policies).toEqual(['mail-stays-internal']);
    // A missing argument does not allow.
    expect(await code(r.callTool(tool('demo.send_email', { subject: 'no recipient' })))).toBe('policy.denied');
    await guard.close();
  });

  it('approve shorthand turns allow into an approval', async () => {
    const guard = createGuard({
      config: baseConfig({ allow: { models: ['*'], tools: ['demo.*'] }, approve: { tools: ['demo.send_email'] } }, { toolServers } as never),
    });
    const r = await run(guard);
    const error = (await r.callTool(tool('demo.send_email', { to: 'ana@example.com' })).catch((e: unknown) => e)) as GuardError;
    expect(error.code).toBe('approval.required');
    await guard.approve(error.details.approvalId as string);
    expect(await code(r.callTool(tool('demo.send_email', { to: 'ana@example.com' })))).toBe('ok');
    await guard.close();
  });

  it('shadow mode records what would have been refused and lets the call through', async () => {
    const guard = createGuard({ config: baseConfig({ allow: { models: ['sim-small'] }, policyMode: 'shadow' }) });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const r = await run(guard);
    expect(await code(r.callModel(ask('hi', 'sim-pricey')))).toBe('ok');
    const shadow = events.find((e) => e.type === 'policy.shadow');
    expect(shadow).toMatchObject({ type: 'policy.shadow', agent: 'bot', resource: 'sim-pricey', effect: 'deny' });
    await guard.close();
  });

  it('a malformed or schema-invalid policy fails startup with file:line, never at the first request', () => {
    const bad = join(dir, 'bad.cedar');
    writeFileSync(bad, 'permit (principal, action, resource)\nwhen { context.nope > 3 };\n');
    const attempt = () => createGuard({ config: baseConfig({ policies: bad }) });
    expect(attempt).toThrow(PolicyConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).toMatch(/bad\.cedar:2:\d+/);
    }
    const broken = join(dir, 'broken.cedar');
    writeFileSync(broken, 'permit (principal, action resource);\n');
    expect(() => createGuard({ config: baseConfig({ policies: broken }) })).toThrow(/broken\.cedar:1:\d+/);
  });
});
