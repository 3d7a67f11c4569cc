import { describe, expect, it } from 'vitest';
import { createPolicyEngine, effectiveEffect } from '../../src/policy/index.ts';
import { baseSpec, model, tool } from './helpers.ts';

describe('default deny', () => {
  it('an agent with no policy can call nothing', () => {
    const e = createPolicyEngine(baseSpec({ agents: [{ id: 'idle', tenant: 'acme' }] }));
    expect(e.decide(tool('idle', 'demo.search'))).toEqual({ effect: 'deny', reason: 'no-permit', policies: [], shadow: false });
    expect(e.decide(model('idle', 'sim-small'))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
  });

  it('an unknown agent is denied, even with a global permit-all', () => {
    const e = createPolicyEngine(baseSpec({ agents: [], global: [{ name: 'g.cedar', text: 'permit(principal, action, resource);' }] }));
    expect(e.decide(tool('nobody', 'demo.search'))).toMatchObject({ effect: 'deny', reason: 'no-permit', policies: [] });
  });

  it('an unknown action or a malformed context is a deny, never a throw', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [{ id: 'bot', tenant: 't' }],
        global: [{ name: 'g.cedar', text: 'permit(principal, action, resource) when { context.runSteps < 5 };' }],
      }),
    );
    for (const action of ['__proto__', 'constructor', 'deleteEverything']) {
      expect(e.decide({ ...tool('bot', 'demo.search'), action } as never)).toMatchObject({ effect: 'deny', reason: 'no-permit' });
    }
    expect(e.decide(tool('bot', 'demo.search', {}, { runSteps: 1.5 }))).toMatchObject({ effect: 'deny', reason: 'error' });
    expect(e.decide(tool('bot', 'demo.search', {}, { runSteps: Number.NaN }))).toMatchObject({ effect: 'deny', reason: 'error' });
    expect(e.decide(tool('bot', 'demo.search', 'not an object' as never))).toMatchObject({ effect: 'allow' });
  });
});

describe('org-wide guardrails', () => {
  it("a global forbid beats the agent's permit", () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [{ id: 'bot', tenant: 'acme', allow: { tools: ['demo.*'] } }],
        global: [{ name: 'global.cedar', text: '@id("no-writes")\nforbid(principal, action, resource == Fmguard::Tool::"demo.write_file");' }],
      }),
    );
    expect(e.decide(tool('bot', 'demo.write_file'))).toEqual({ effect: 'deny', reason: 'forbid', policies: ['no-writes'], shadow: false });
    expect(e.decide(tool('bot', 'demo.read_file'))).toMatchObject({ effect: 'allow', policies: ['agent:bot:allow:tools:demo.*'] });
  });

  it('a tenant-scoped global forbid applies to the agents of that tenant only', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [
          { id: 'a', tenant: 'acme', allow: { models: ['*'] } },
          { id: 'b', tenant: 'globex', allow: { models: ['*'] } },
        ],
        global: [
          {
            name: 'g.cedar',
            text: '@id("acme-no-openai")\nforbid(principal in Fmguard::Tenant::"acme", action, resource is Fmguard::Model) when { resource.provider == "openai" };',
          },
        ],
      }),
    );
    expect(e.decide(model('a', 'gpt-4o-mini'))).toMatchObject({ effect: 'deny', reason: 'forbid', policies: ['acme-no-openai'] });
    expect(e.decide(model('a', 'sim-small'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(model('b', 'gpt-4o-mini'))).toMatchObject({ effect: 'allow' });
  });

  it("an agent's own file cannot reach other agents: its policies are pinned to it", () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [
          { id: 'a', tenant: 'acme', policies: [{ name: 'a.cedar', text: '@id("all")\npermit(principal, action, resource);' }] },
          { id: 'b', tenant: 'acme' },
        ],
      }),
    );
    expect(e.decide(tool('a', 'demo.search'))).toMatchObject({ effect: 'allow', policies: ['agent:a:all'] });
    expect(e.decide(tool('b', 'demo.search'))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
  });
});

describe('shorthand', () => {
  const e = createPolicyEngine(
    baseSpec({
      agents: [
        {
          id: 'bot',
          tenant: 'acme',
          allow: { models: ['sim-*'], tools: ['demo.search', 'demo.read_*'] },
          deny: { models: ['sim-large'] },
          approve: { tools: ['payments.*'] },
        },
      ],
    }),
  );

  it('`demo.read_*` allows demo.read_file but not demo.write_file', () => {
    expect(e.decide(tool('bot', 'demo.read_file'))).toEqual({ effect: 'allow', policies: ['agent:bot:allow:tools:demo.read_*'], shadow: false });
    expect(e.decide(tool('bot', 'demo.write_file'))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
    // `*` matches any run, including the empty one; the prefix must match exactly.
    expect(e.decide(tool('bot', 'demo.read_'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('bot', 'xdemo.read_file'))).toMatchObject({ effect: 'deny' });
    expect(e.decide(tool('bot', 'other.read_file'))).toMatchObject({ effect: 'deny' });
  });

  it('exact names match exactly; deny wins over a wildcard allow', () => {
    expect(e.decide(tool('bot', 'demo.search'))).toMatchObject({ effect: 'allow', policies: ['agent:bot:allow:tools:demo.search'] });
    expect(e.decide(tool('bot', 'demo.search2'))).toMatchObject({ effect: 'deny' });
    expect(e.decide(model('bot', 'sim-small'))).toMatchObject({ effect: 'allow', policies: ['agent:bot:allow:models:sim-*'] });
    expect(e.decide(model('bot', 'sim-large'))).toMatchObject({ effect: 'deny', reason: 'forbid', policies: ['agent:bot:deny:models:sim-large'] });
    expect(e.decide(model('bot', 'gpt-4o-mini'))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
  });

  it('tools discovered at run time (not in the spec) are matched by name', () => {
    expect(e.decide(tool('bot', 'demo.read_secrets'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('bot', 'payments.anything'))).toMatchObject({ effect: 'approval' });
  });
});

describe('conditions on tool arguments', () => {
  const e = createPolicyEngine(
    baseSpec({
      agents: [
        {
          id: 'mailer',
          tenant: 'acme',
          policies: [
            {
              name: 'mailer.cedar',
              text: `@id("internal-mail")
permit (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.send_email")
when { context.input has to && context.input.to like "*@example.com" };
@id("small-fees")
permit (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"payments.process_refund")
when { context.input has fee && context.input.fee.lessThan(decimal("2.5")) };`,
            },
          ],
        },
      ],
    }),
  );

  it('send_email only to recipients ending @example.com', () => {
    expect(e.decide(tool('mailer', 'demo.send_email', { to: 'ann@example.com', subject: 'hi' }))).toMatchObject({
      effect: 'allow',
      policies: ['agent:mailer:internal-mail'],
    });
    expect(e.decide(tool('mailer', 'demo.send_email', { to: 'ann@evil.com' }))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
    expect(e.decide(tool('mailer', 'demo.send_email', { to: 'ann@example.com.evil.com' }))).toMatchObject({ effect: 'deny' });
  });

  it('a missing argument does not allow', () => {
    expect(e.decide(tool('mailer', 'demo.send_email', { subject: 'no recipient' }))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
    expect(e.decide(tool('mailer', 'demo.send_email', { to: null }))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
  });

  it('an argument of the wrong type does not allow (the permit errors and is skipped)', () => {
    const d = e.decide(tool('mailer', 'demo.send_email', { to: 42 }));
    expect(d).toMatchObject({ effect: 'deny', reason: 'no-permit', errors: ['agent:mailer:internal-mail'] });
  });

  it('`number` arguments are decimals, integers included', () => {
    expect(e.decide(tool('mailer', 'payments.process_refund', { fee: 2.49 }))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('mailer', 'payments.process_refund', { fee: 2 }))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('mailer', 'payments.process_refund', { fee: 2.5 }))).toMatchObject({ effect: 'deny' });
  });

  it('an argument of the wrong shape, however deep, is a deny, not a crash', () => {
    let deep: unknown = 'x@example.com';
    for (let i = 0; i < 100_000; i++) deep = { to: deep };
    expect(e.decide(tool('mailer', 'demo.send_email', { to: deep }))).toMatchObject({ effect: 'deny' });
    expect(e.decide(tool('mailer', 'demo.send_email', { to: ['x@example.com'] }))).toMatchObject({ effect: 'deny' });
  });

  it('an argument cannot smuggle in an entity reference', () => {
    const forged = { to: { __entity: { type: 'Fmguard::Agent', id: 'admin' } } };
    expect(e.decide(tool('mailer', 'demo.send_email', forged))).toMatchObject({ effect: 'deny' });
  });
});

describe('forbids that cannot be evaluated fail closed', () => {
  it('a forbid erroring on a wrongly typed argument denies with reason "error"', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [{ id: 'bot', tenant: 'acme', allow: { tools: ['payments.*'] } }],
        global: [
          {
            name: 'g.cedar',
            text: '@id("cap")\nforbid(principal, action, resource) when { context has input && context.input has amount && context.input.amount > 1000 };',
          },
        ],
      }),
    );
    expect(e.decide(tool('bot', 'payments.process_refund', { amount: 10 }))).toMatchObject({ effect: 'allow' });
    expect(e.decide(tool('bot', 'payments.process_refund', { amount: 5000 }))).toMatchObject({ effect: 'deny', reason: 'forbid', policies: ['cap'] });
    expect(e.decide(tool('bot', 'payments.process_refund', { amount: '5000' }))).toEqual({
      effect: 'deny',
      reason: 'error',
      policies: ['cap'],
      errors: ['cap'],
      shadow: false,
    });
    // A fractional amount does not fit the declared Long either.
    expect(e.decide(tool('bot', 'payments.process_refund', { amount: 5000.5 }))).toMatchObject({ effect: 'deny', reason: 'error' });
  });
});

describe('context', () => {
  const e = createPolicyEngine(
    baseSpec({
      agents: [{ id: 'bot', tenant: 'acme', allow: { models: ['*'] } }],
      global: [
        {
          name: 'limits.cedar',
          text: `@id("max-tokens")
forbid (principal, action == Fmguard::Action::"invokeModel", resource) when { context.maxTokens > 4096 };
@id("spend")
forbid (principal, action == Fmguard::Action::"invokeModel", resource) when { context.runCostMicroUsd >= 500000 };
@id("night")
forbid (principal, action, resource) when { context.hourUtc < 6 };
@id("no-stream-deep")
forbid (principal, action == Fmguard::Action::"invokeModel", resource) when { context.stream && context.runDepth > 1 };`,
        },
      ],
    }),
  );

  it('reads requested tokens, spend, time of day, streaming and depth', () => {
    expect(e.decide(model('bot', 'sim-small'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(model('bot', 'sim-small', { maxTokens: 5000 }))).toMatchObject({ effect: 'deny', policies: ['max-tokens'] });
    expect(e.decide(model('bot', 'sim-small', { hourUtc: 3 }))).toMatchObject({ effect: 'deny', policies: ['night'] });
    expect(e.decide(model('bot', 'sim-small', { stream: true, runDepth: 2 }))).toMatchObject({ effect: 'deny', policies: ['no-stream-deep'] });
    expect(e.decide(model('bot', 'sim-small', { stream: true, runDepth: 1 }))).toMatchObject({ effect: 'allow' });
  });

  it('spend is micro-dollars rounded up, so a cap is never undercut by rounding', () => {
    expect(e.decide(model('bot', 'sim-small', { runCostNanoUsd: 499_999_000 }))).toMatchObject({ effect: 'allow' });
    expect(e.decide(model('bot', 'sim-small', { runCostNanoUsd: 499_999_001 }))).toMatchObject({ effect: 'deny', policies: ['spend'] });
  });

  it('every forbid that holds is reported', () => {
    expect(e.decide(model('bot', 'sim-small', { maxTokens: 5000, hourUtc: 1 })).policies).toEqual(expect.arrayContaining(['max-tokens', 'night']));
  });
});

describe('approval', () => {
  const e = createPolicyEngine(
    baseSpec({
      agents: [
        { id: 'bot', tenant: 'acme', allow: { tools: ['demo.*'] }, approve: { tools: ['demo.send_email'] } },
        { id: 'mixed', tenant: 'acme', approve: { tools: ['demo.*'] }, deny: { tools: ['demo.write_file'] } },
      ],
    }),
  );

  it('an approve entry turns allow into approval, reported by the approval policy', () => {
    expect(e.decide(tool('bot', 'demo.send_email', { to: 'a@example.com' }))).toEqual({
      effect: 'approval',
      policies: ['agent:bot:approve:tools:demo.send_email'],
      shadow: false,
    });
    expect(e.decide(tool('bot', 'demo.search'))).toMatchObject({ effect: 'allow' });
  });

  it('forbid wins over approval', () => {
    expect(e.decide(tool('mixed', 'demo.write_file'))).toMatchObject({ effect: 'deny', reason: 'forbid' });
    expect(e.decide(tool('mixed', 'demo.read_file'))).toMatchObject({ effect: 'approval' });
  });

  it('@approval in a Cedar file works the same way', () => {
    const f = createPolicyEngine(
      baseSpec({
        agents: [
          {
            id: 'bot',
            tenant: 'acme',
            policies: [
              {
                name: 'bot.cedar',
                text: '@id("big-refunds")\n@approval("required")\npermit(principal, action == Fmguard::Action::"callTool", resource) when { context.input has amount && context.input.amount > 100 };\n@id("refunds")\npermit(principal, action, resource == Fmguard::Tool::"payments.process_refund");',
              },
            ],
          },
        ],
      }),
    );
    expect(f.decide(tool('bot', 'payments.process_refund', { amount: 50 }))).toMatchObject({ effect: 'allow', policies: ['agent:bot:refunds'] });
    expect(f.decide(tool('bot', 'payments.process_refund', { amount: 500 }))).toMatchObject({ effect: 'approval', policies: ['agent:bot:big-refunds'] });
  });
});

describe('shadow mode', () => {
  const e = createPolicyEngine(
    baseSpec({
      agents: [{ id: 'trial', tenant: 'acme', mode: 'shadow', allow: { tools: ['demo.read_*'] }, approve: { tools: ['demo.send_email'] } }],
    }),
  );

  it('reports the real decision, flagged shadow, and the effective outcome is allow', () => {
    const denied = e.decide(tool('trial', 'demo.write_file'));
    expect(denied).toEqual({ effect: 'deny', reason: 'no-permit', policies: [], shadow: true });
    expect(effectiveEffect(denied)).toBe('allow');
    const approval = e.decide(tool('trial', 'demo.send_email'));
    expect(approval).toMatchObject({ effect: 'approval', shadow: true });
    expect(effectiveEffect(approval)).toBe('allow');
    expect(e.decide(tool('trial', 'demo.read_file'))).toMatchObject({ effect: 'allow', shadow: true });
  });

  it('enforce mode acts on the decision', () => {
    const f = createPolicyEngine(baseSpec({ agents: [{ id: 'x', tenant: 'acme' }] }));
    expect(effectiveEffect(f.decide(tool('x', 'demo.read_file')))).toBe('deny');
  });
});

describe('policy ids', () => {
  it('come from @id, else from file#index; agent policies carry the agent; policy() says where', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [
          {
            id: 'bot',
            tenant: 'acme',
            policies: [
              {
                name: 'bot.cedar',
                text: '// unnamed\npermit(principal, action, resource == Fmguard::Tool::"demo.search");\n\n@id("named") permit(principal, action, resource == Fmguard::Tool::"demo.read_file");',
              },
            ],
          },
        ],
        global: [{ name: 'g.cedar', text: 'forbid(principal, action, resource == Fmguard::Tool::"demo.write_file");' }],
      }),
    );
    expect(e.decide(tool('bot', 'demo.search')).policies).toEqual(['agent:bot:bot.cedar#0']);
    expect(e.decide(tool('bot', 'demo.read_file')).policies).toEqual(['agent:bot:named']);
    expect(e.decide(tool('bot', 'demo.write_file')).policies).toEqual(['g.cedar#0']);
    expect(e.policy('agent:bot:named')).toMatchObject({ effect: 'permit', agent: 'bot', source: 'bot.cedar', line: 4, approval: false });
    expect(e.policy('g.cedar#0')).toMatchObject({ effect: 'forbid', agent: undefined, line: 1 });
  });
});

describe('warm', () => {
  it('prepares every configured agent × model/tool pair up front, with the same answers', () => {
    const spec = baseSpec({
      agents: [
        { id: 'a', tenant: 't', allow: { tools: ['demo.*'], models: ['sim-*'] } },
        { id: 'b', tenant: 't' },
      ],
    });
    const e = createPolicyEngine(spec);
    expect(e.warm()).toBe(2 * (3 + 5));
    expect(e.decide(tool('a', 'demo.read_file'))).toMatchObject({ effect: 'allow' });
    expect(e.decide(model('a', 'gpt-4o-mini'))).toMatchObject({ effect: 'deny' });
  });
});
