import { describe, expect, it } from 'vitest';
import { createPolicyEngine, type DecisionRequest, type PolicySpec } from '../../src/policy/index.ts';
import { baseSpec, model, tool } from './helpers.ts';

describe('decision caching', () => {
  it('never returns a stale answer when a policy reads the context', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [{ id: 'bot', tenant: 'acme', allow: { tools: ['payments.*'], models: ['sim-*'] } }],
        global: [
          {
            name: 'g.cedar',
            text: '@id("cap")\nforbid(principal, action == Fmguard::Action::"callTool", resource) when { context.input has amount && context.input.amount > 100 };\n@id("steps")\nforbid(principal, action == Fmguard::Action::"invokeModel", resource) when { context.runSteps >= 10 };',
          },
        ],
      }),
    );
    for (let i = 0; i < 5; i++) {
      expect(e.decide(tool('bot', 'payments.process_refund', { amount: 50 })).effect).toBe('allow');
      expect(e.decide(tool('bot', 'payments.process_refund', { amount: 500 })).effect).toBe('deny');
      expect(e.decide(tool('bot', 'payments.process_refund', {})).effect).toBe('allow');
      expect(e.decide(model('bot', 'sim-small', { runSteps: 9 })).effect).toBe('allow');
      expect(e.decide(model('bot', 'sim-small', { runSteps: 10 })).effect).toBe('deny');
    }
  });

  it('caches a decision no policy in reach can change, and still answers per resource', () => {
    const e = createPolicyEngine(
      baseSpec({
        agents: [{ id: 'bot', tenant: 'acme', allow: { tools: ['demo.read_*'] } }],
        // Reads the context, but can never apply to demo.* tools: it does not stop caching them.
        global: [{ name: 'g.cedar', text: 'forbid(principal, action, resource == Fmguard::Tool::"payments.process_refund") when { context.runSteps > 3 };' }],
      }),
    );
    const first = e.decide(tool('bot', 'demo.read_file'));
    expect(first.effect).toBe('allow');
    // The same frozen object: nothing was evaluated the second time.
    expect(e.decide(tool('bot', 'demo.read_file', {}, { runSteps: 99 }))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(e.decide(tool('bot', 'demo.write_file')).effect).toBe('deny');
  });
});

// Differential check: the pruned-and-cached strategy must agree with evaluating the whole
// deployment on every request (same effect, reason and policy ids).
describe('slicing and caching agree with full-set evaluation', () => {
  const spec: PolicySpec = baseSpec({
    agents: [
      { id: 'a', tenant: 'acme', allow: { models: ['sim-*'], tools: ['demo.*'] }, deny: { tools: ['demo.write_file'] }, approve: { tools: ['payments.*'] } },
      { id: 'b', tenant: 'acme', mode: 'shadow', allow: { tools: ['demo.read_*', 'payments.process_refund'] } },
      {
        id: 'c',
        tenant: 'globex',
        tags: { tier: 'gold' },
        allow: { models: ['*'] },
        policies: [
          {
            name: 'c.cedar',
            text: '@id("mail") permit(principal, action, resource == Fmguard::Tool::"demo.send_email") when { context.input has to && context.input.to like "*@example.com" };\n@id("refunds") permit(principal, action, resource is Fmguard::Tool) when { resource.server == "payments" && context.runCostMicroUsd < 1000 };',
          },
        ],
      },
      { id: 'd', tenant: 'globex' },
      { id: 'f', tenant: 'initech', allow: { models: ['sim-*'] }, deny: { models: ['sim-large'] } },
      {
        id: 'e',
        tenant: 'acme',
        policies: [
          {
            name: 'e.cedar',
            text: [
              '@id("mail") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.send_email") when { context.input has to && (context.input.to like "*@example.com" || context.input.to == "boss@corp.com") && !(context.input has cc && context.input.cc.contains("x@evil.com")) };',
              '@id("urgent") forbid(principal, action, resource) when { context has input && context.input has subject && context.input.subject like "*URGENT*" };',
              '@id("tokens") permit(principal, action == Fmguard::Action::"invokeModel", resource) when { if context.stream then context.maxTokens <= 1000 else context.maxTokens <= 2000 };',
              '@id("steps") forbid(principal, action == Fmguard::Action::"callTool", resource) unless { context.runSteps < 15 };',
              '@id("paths") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.read_file") when { context.input has path && ["a", "b"].contains(context.input.path) };',
              '@id("fee") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"payments.process_refund") when { context.input has fee && context.input.fee.lessThan(decimal("1.0")) };',
              '@id("cc") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.search") when { context.input has cc && (context.input.cc.containsAll(["a@example.com"]) || context.input.cc.isEmpty()) };',
            ].join('\n'),
          },
        ],
      },
    ],
    global: [
      {
        name: 'g.cedar',
        text: [
          '@id("cap") forbid(principal, action == Fmguard::Action::"callTool", resource) when { context.input has amount && context.input.amount > 100 };',
          '@id("night") forbid(principal in Fmguard::Tenant::"globex", action, resource) when { context.hourUtc < 6 };',
          '@id("big") forbid(principal in Fmguard::Tenant::"acme", action == Fmguard::Action::"invokeModel", resource) when { context.maxTokens > 1000 && !(principal.hasTag("tier") && principal.getTag("tier") == "gold") };',
          '@id("openai") forbid(principal, action, resource is Fmguard::Model) when { resource.provider == "openai" && principal.tenant == "acme" };',
        ].join('\n'),
      },
    ],
  });

  // A small deterministic generator, so a failure is reproducible.
  let seed = Number(process.env.POLICY_FUZZ_SEED ?? 42);
  const rand = (n: number): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

  function request(): DecisionRequest {
    const agent = pick(['a', 'b', 'c', 'd', 'e', 'e', 'f', 'ghost']);
    const run = { runSteps: rand(20), runCostNanoUsd: pick([0, 999_000_000, 1_000_000, 2_000_000]), runDepth: rand(3), hourUtc: rand(24) };
    if (rand(3) === 0)
      return {
        agent,
        action: 'invokeModel',
        resource: pick(['sim-small', 'sim-large', 'gpt-4o-mini', 'unknown-model']),
        context: { ...run, maxTokens: pick([100, 2000]), stream: rand(2) === 0 },
      };
    const input: Record<string, unknown> = {};
    const fields: [string, unknown[]][] = [
      ['amount', [50, 500, '5', 5.5]],
      ['to', ['x@example.com', 'boss@corp.com', 'x@evil.com', 7, ['a'], null]],
      ['cc', [['x@evil.com'], ['a@example.com', 'b'], [], 'x@evil.com']],
      ['subject', ['URGENT now', 'hi', 3]],
      ['path', ['a', 'b', 'c', 1]],
      ['fee', [0.5, 1, 2.25, 'x']],
      ['extra', [{ __entity: { type: 'Fmguard::Agent', id: 'a' } }, 'x']],
    ];
    for (const [key, values] of fields) if (rand(3) === 0) input[key] = pick(values);
    return {
      agent,
      action: 'callTool',
      resource: pick(['demo.read_file', 'demo.write_file', 'demo.send_email', 'demo.search', 'payments.process_refund', 'payments.other', 'other.tool']),
      context: { ...run, input },
    };
  }

  it('over 2,000 random requests', { timeout: 120_000 }, () => {
    const pruned = createPolicyEngine(spec);
    const prunedCedar = createPolicyEngine(spec, { evaluator: 'cedar' });
    const agent = createPolicyEngine(spec, { strategy: 'agent' });
    const full = createPolicyEngine(spec, { strategy: 'full' });
    const norm = (d: ReturnType<typeof full.decide>) => ({ ...d, policies: [...d.policies].sort(), errors: d.errors ? [...d.errors].sort() : undefined });
    const effects = new Set<string>();
    const paths = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const r = request();
      const expected = norm(full.decide(r));
      expect(norm(pruned.decide(r)), JSON.stringify(r)).toEqual(expected);
      expect(norm(prunedCedar.decide(r)), JSON.stringify(r)).toEqual(expected);
      expect(norm(agent.decide(r)), JSON.stringify(r)).toEqual(expected);
      effects.add(`${expected.effect}:${'reason' in expected ? expected.reason : ''}`);
      paths.add(pruned.evaluationPath(r));
    }
    // The generator reaches every kind of outcome.
    expect([...effects].sort()).toEqual(['allow:', 'approval:', 'deny:error', 'deny:forbid', 'deny:no-permit']);
    // ... and every way of deciding: cached, JS residuals, cedar-wasm (the decimal `lessThan`).
    expect([...paths].sort()).toEqual(['cedar', 'fixed', 'residual', 'unknown-agent']);
  });
});
