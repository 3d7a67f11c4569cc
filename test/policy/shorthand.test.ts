import { describe, expect, it } from 'vitest';
import { cedar } from '../../src/policy/cedar.ts';
import { buildInputType, fromJsonSchema, renderInputType } from '../../src/policy/input-types.ts';
import { checkPolicies, compileShorthand, createPolicyEngine, type PolicyProblem } from '../../src/policy/index.ts';
import { baseSpec, tool } from './helpers.ts';

describe('compileShorthand', () => {
  it('prints what `fmguard policy compile` shows', () => {
    expect(
      compileShorthand({
        id: 'support-bot',
        tenant: 'acme',
        allow: { models: ['sim-*'], tools: ['demo.search', 'demo.read_*'] },
        approve: { tools: ['demo.send_email'] },
        deny: { tools: ['*'] },
      }),
    ).toMatchInlineSnapshot(`
        "// agent "support-bot": compiled from the config shorthand (allow / approve / deny)

        @id("agent:support-bot:allow:models:sim-*")
        permit (
          principal == Fmguard::Agent::"support-bot",
          action == Fmguard::Action::"invokeModel",
          resource
        )
        when { resource.name like "sim-*" };

        @id("agent:support-bot:allow:tools:demo.search")
        permit (
          principal == Fmguard::Agent::"support-bot",
          action == Fmguard::Action::"callTool",
          resource == Fmguard::Tool::"demo.search"
        );

        @id("agent:support-bot:allow:tools:demo.read_*")
        permit (
          principal == Fmguard::Agent::"support-bot",
          action == Fmguard::Action::"callTool",
          resource
        )
        when { resource.name like "demo.read_*" };

        @id("agent:support-bot:approve:tools:demo.send_email")
        @approval("required")
        permit (
          principal == Fmguard::Agent::"support-bot",
          action == Fmguard::Action::"callTool",
          resource == Fmguard::Tool::"demo.send_email"
        );

        @id("agent:support-bot:deny:tools:*")
        forbid (
          principal == Fmguard::Agent::"support-bot",
          action == Fmguard::Action::"callTool",
          resource
        );
        "
      `);
  });

  it('says so when there is no shorthand', () => {
    expect(compileShorthand({ id: 'x', tenant: 't' })).toContain('no shorthand entries');
  });

  it('escapes names, so a quote in a name cannot break out of the string', () => {
    const text = compileShorthand({ id: 'a"b', tenant: 't', allow: { tools: ['s.x"; permit(principal, action, resource); //*'] } });
    const parsed = cedar().policySetTextToParts(text);
    expect(parsed.type === 'success' && parsed.policies.length).toBe(1);
    const e = createPolicyEngine(baseSpec({ agents: [{ id: 'a"b', tenant: 't', allow: { tools: ['s.x"*'] } }] }));
    expect(e.decide(tool('a"b', 's.x"y'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('a"b', 's.xy'))).toMatchObject({ effect: 'deny' });
  });

  it('tool and model patterns: `*` alone, server wildcards, models by provider-like prefixes', () => {
    const e = createPolicyEngine(baseSpec({ agents: [{ id: 'bot', tenant: 't', allow: { tools: ['*.search', 'payments.*'], models: ['*'] } }] }));
    expect(e.decide(tool('bot', 'demo.search'))).toMatchObject({ effect: 'allow', policies: ['agent:bot:allow:tools:*.search'] });
    expect(e.decide(tool('bot', 'demo.search_all'))).toMatchObject({ effect: 'deny' });
    expect(e.decide(tool('bot', 'payments.process_refund'))).toMatchObject({ effect: 'allow' });
    expect(
      e.decide({
        agent: 'bot',
        action: 'invokeModel',
        resource: 'anything',
        context: { runSteps: 0, runCostNanoUsd: 0, runDepth: 0, hourUtc: 0, maxTokens: 1, stream: false },
      }),
    ).toMatchObject({ effect: 'allow' });
  });

  it('repeated entries compile once; an empty entry is a problem', () => {
    const problems = checkPolicies(baseSpec({ agents: [{ id: 'bot', tenant: 't', allow: { tools: ['demo.search', 'demo.search', ''] } }] }));
    expect(problems).toMatchObject([{ severity: 'error', source: 'agents.bot.allow.tools[2]' }]);
  });
});

describe('tool argument types', () => {
  it('maps JSON Schema to Cedar types, leaving out what cannot be typed', () => {
    const t = fromJsonSchema({
      type: 'object',
      properties: {
        s: { type: 'string' },
        e: { enum: ['a', 'b'] },
        i: { type: 'integer' },
        n: { type: ['number', 'null'] },
        b: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        anyArray: { type: 'array' },
        nested: { type: 'object', properties: { city: { type: 'string' } } },
        free: { type: 'object' },
        union: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
        __entity: { type: 'string' },
      },
    });
    expect(renderInputType(t!)).toMatchInlineSnapshot(`
      "{
          "s"?: String,
          "e"?: String,
          "i"?: Long,
          "n"?: decimal,
          "b"?: Bool,
          "tags"?: Set<String>,
          "nested"?: {
            "city"?: String
          }
        }"
    `);
  });

  it('merges the arguments of all tools, dropping (and warning about) conflicting ones', () => {
    const problems: PolicyProblem[] = [];
    const t = buildInputType(
      [
        { name: 'a', tools: [{ name: 'one', inputSchema: { type: 'object', properties: { q: { type: 'string' }, k: { type: 'integer' } } } }] },
        {
          name: 'b',
          tools: [
            { name: 'two', inputSchema: { type: 'object', properties: { q: { type: 'integer' }, k: { type: 'integer' }, z: { type: 'boolean' } } } },
            { name: 'three', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
          ],
        },
      ],
      problems,
    );
    expect([...t.attrs.keys()].sort()).toEqual(['k', 'z']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('context.input.q');
  });
});
