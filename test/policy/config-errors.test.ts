import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPolicies, createPolicyEngine, formatProblem, PolicyConfigError } from '../../src/policy/index.ts';
import type { PolicySpec } from '../../src/policy/index.ts';
import { baseSpec, tool } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

function creationError(spec: PolicySpec): PolicyConfigError {
  try {
    createPolicyEngine(spec);
  } catch (err) {
    if (err instanceof PolicyConfigError) return err;
    throw err;
  }
  throw new Error('expected createPolicyEngine to throw');
}

describe('bad policies fail at creation, with file:line:column', () => {
  it('a malformed policy', () => {
    const name = file(
      'malformed.cedar',
      '// ok so far\npermit(principal, action, resource);\n\nforbid(principal, action, resource)\n  when { context.runSteps > };\n',
    );
    const err = creationError(baseSpec({ baseDir: dir, global: [name] }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ severity: 'error', source: 'malformed.cedar', line: 5, column: 29 });
    expect(err.message).toContain('malformed.cedar:5:29: error: unexpected token `}`');
  });

  it('a schema-invalid policy (unknown attribute, wrong type, unknown entity type)', () => {
    const name = file(
      'invalid.cedar',
      [
        'permit(principal, action == Fmguard::Action::"invokeModel", resource)',
        '  when { context.maxTokenz < 100 };',
        'permit(principal, action == Fmguard::Action::"callTool", resource)',
        '  when { resource.name < 3 };',
        'permit(principal == Fmguard::User::"x", action, resource);',
      ].join('\n'),
    );
    const err = creationError(baseSpec({ baseDir: dir, agents: [{ id: 'bot', tenant: 'acme', policies: [name] }] }));
    const where = err.problems.map((p) => `${p.source}:${p.line}`);
    expect(where).toEqual(expect.arrayContaining(['invalid.cedar:2', 'invalid.cedar:4', 'invalid.cedar:5']));
    expect(err.problems.find((p) => p.line === 2)!.message).toContain('maxTokenz');
    expect(err.problems.find((p) => p.line === 2)!.help).toContain('maxTokens');
  });

  it('lists the problems of every file, not just the first', () => {
    const a = file('a.cedar', 'permit(principal, action, resource) when { context.nope };');
    const b = file('b.cedar', 'permit(principal action, resource);');
    const err = creationError(baseSpec({ baseDir: dir, global: [a, b] }));
    expect(new Set(err.problems.map((p) => p.source))).toEqual(new Set(['a.cedar', 'b.cedar']));
  });

  it('columns count characters, not UTF-8 bytes', () => {
    const name = file('unicode.cedar', '// Größe ü\npermit(principal, action, resource) when { "ä" == context.nope };');
    const err = creationError(baseSpec({ baseDir: dir, global: [name] }));
    expect(err.problems[0]).toMatchObject({ line: 2, column: 51 });
  });

  it('an unreadable file', () => {
    const err = creationError(baseSpec({ baseDir: dir, global: ['missing.cedar'] }));
    expect(err.problems[0]).toMatchObject({ source: 'missing.cedar', severity: 'error' });
    expect(err.problems[0]!.message).toContain('cannot read policy file');
  });

  it("a policy in an agent's file naming another principal", () => {
    const name = file('other.cedar', 'permit(principal == Fmguard::Agent::"someone-else", action, resource);');
    const err = creationError(baseSpec({ baseDir: dir, agents: [{ id: 'bot', tenant: 'acme', policies: [name] }] }));
    expect(err.problems[0]).toMatchObject({ source: 'other.cedar', line: 1, column: 1 });
    expect(err.problems[0]!.message).toContain('"bot"');
  });

  it('duplicate policy ids', () => {
    const err = creationError(
      baseSpec({ global: [{ name: 'g.cedar', text: '@id("x") permit(principal, action, resource);\n@id("x") forbid(principal, action, resource);' }] }),
    );
    expect(err.problems[0]).toMatchObject({ source: 'g.cedar', line: 2, message: 'duplicate policy id "x"' });
  });

  it('a shorthand tool without a server is reported at its config path', () => {
    const err = creationError(baseSpec({ agents: [{ id: 'bot', tenant: 'acme', allow: { tools: ['send_email'] } }] }));
    expect(formatProblem(err.problems[0]!)).toBe(
      'agents.bot.allow.tools[0]: error: expected a tool as server.tool (e.g. "demo.send_email" or "send_email.*"), got "send_email"',
    );
  });

  it('a policy reading an argument no tool declares fails validation', () => {
    const err = creationError(
      baseSpec({
        global: [{ name: 'g.cedar', text: 'permit(principal, action == Fmguard::Action::"callTool", resource) when { context.input.account == "x" };' }],
      }),
    );
    expect(err.problems[0]).toMatchObject({ line: 1, column: 75 });
    expect(err.problems[0]!.message).toContain('`input.account` in context for Fmguard::Action::"callTool" not found');
  });

  it('a forbid that can never apply is an error (a permit that cannot is only a warning)', () => {
    const forbid = 'forbid(principal, action == Fmguard::Action::"callTool", resource) when { context.input has acount && context.input.acount > 5 };';
    const err = creationError(baseSpec({ global: [{ name: 'g.cedar', text: `// typo: acount\n${forbid}` }] }));
    expect(formatProblem(err.problems[0]!)).toContain('g.cedar:2:1: error: policy is impossible');
    expect(err.problems[0]!.help).toContain('input schema');
    const permit = forbid.replace('forbid', 'permit');
    const problems = checkPolicies(baseSpec({ global: [{ name: 'g.cedar', text: permit }] }));
    expect(problems).toMatchObject([{ severity: 'warning', line: 1 }]);
  });

  it('undeclared arguments never reach policies, as the validator assumed', () => {
    const permit =
      '@id("p")\npermit(principal, action == Fmguard::Action::"callTool", resource) when { context.input has account && context.input.account == "x" };';
    const e = createPolicyEngine(baseSpec({ agents: [{ id: 'bot', tenant: 'acme' }], global: [{ name: 'g.cedar', text: permit }] }));
    expect(e.decide(tool('bot', 'demo.search', { account: 'x' }))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
  });
});

describe('checkPolicies', () => {
  it('returns nothing for good policies and the example files', () => {
    const spec = baseSpec({
      baseDir: join(import.meta.dirname, '../..'),
      global: ['policies/global.cedar'],
      agents: [{ id: 'support-bot', tenant: 'acme', policies: ['policies/support-bot.cedar'], allow: { models: ['sim-*'] } }],
    });
    expect(checkPolicies(spec)).toEqual([]);
    const e = createPolicyEngine(spec);
    expect(e.decide(tool('support-bot', 'payments.process_refund', { amount: 150 }))).toMatchObject({
      effect: 'allow',
      policies: ['agent:support-bot:small-refunds'],
    });
    expect(e.decide(tool('support-bot', 'payments.process_refund', { amount: 700 }))).toMatchObject({ effect: 'approval' });
    expect(e.decide(tool('support-bot', 'payments.process_refund', { amount: 1700 }))).toMatchObject({ effect: 'deny', policies: ['global:no-large-refunds'] });
  });

  it('reports warnings (unknown names, conflicting argument types) without failing creation', () => {
    const spec = baseSpec({
      agents: [{ id: 'bot', tenant: 'acme', allow: { models: ['sim-smal'], tools: ['demo.serch', 'nosuch.tool'] } }],
      toolServers: [
        {
          name: 'demo',
          tools: [
            { name: 'search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
            { name: 'count', inputSchema: { type: 'object', properties: { q: { type: 'integer' } } } },
          ],
        },
      ],
    });
    const problems = checkPolicies(spec);
    expect(problems.every((p) => p.severity === 'warning')).toBe(true);
    expect(problems.map(formatProblem).join('\n')).toMatchInlineSnapshot(`
      "toolServers[0].tools[1].inputSchema: warning: context.input.q in demo.count has a different type than in another tool; it is left undeclared and policies cannot read it
      agents.bot.allow.models[0]: warning: no model named "sim-smal" is configured
      agents.bot.allow.tools[0]: warning: tool server "demo" declares no tool "serch"
      agents.bot.allow.tools[1]: warning: no tool server named "nosuch" is configured"
    `);
    expect(createPolicyEngine(spec).warnings).toHaveLength(4);
  });
});
