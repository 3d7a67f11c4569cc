import { describe, expect, it } from 'vitest';
import { createPolicyEngine, type PolicyEngineOptions } from '../../src/policy/index.ts';
import { baseSpec, tool } from './helpers.ts';

/**
 * Issue 20: the policy benchmark's "policies evaluated" comes from the engine's own counter. The
 * counter is checked here against what each evaluation path is given.
 */
const spec = baseSpec({
  agents: [
    {
      id: 'bot',
      tenant: 'acme',
      allow: { tools: ['demo.read_*'] },
      policies: [
        {
          name: 'bot.cedar',
          text: [
            '@id("small") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"payments.process_refund") when { context.input has amount && context.input.amount < 100 };',
            '@id("early") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"payments.process_refund") when { context.runSteps < 5 };',
            '@id("mail") permit(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.send_email");',
          ].join('\n'),
        },
      ],
    },
    { id: 'other', tenant: 'acme', allow: { tools: ['demo.search'] } },
  ],
  global: [
    {
      name: 'g.cedar',
      text: '@id("cap") forbid(principal, action == Fmguard::Action::"callTool", resource in Fmguard::ToolServer::"payments") when { context.input has amount && context.input.amount > 1000 };',
    },
  ],
});

function run(options: PolicyEngineOptions) {
  const engine = createPolicyEngine(spec, options);
  const total = engine.stats();
  expect(total).toEqual({ decisions: 0, fixed: 0, residual: 0, cedar: 0, policiesEvaluated: 0, prepared: 0 });
  for (const amount of [50, 500, 5000]) engine.decide(tool('bot', 'payments.process_refund', { amount }));
  return engine;
}

describe('the policy engine counts the policies it evaluates', () => {
  it('default: the residual conditions left for the target, per decision; a cached decision evaluates none', () => {
    const engine = run({});
    // 2 agent permits (the amount, the run's steps) + the global cap; `mail` and the shorthand cannot apply to this tool.
    expect(engine.stats()).toEqual({ decisions: 3, fixed: 0, residual: 3, cedar: 0, policiesEvaluated: 9, prepared: 1 });
    for (let i = 0; i < 4; i++) engine.decide(tool('bot', 'demo.read_file', { path: '/x' }));
    engine.decide(tool('nobody', 'demo.read_file'));
    expect(engine.stats()).toEqual({ decisions: 8, fixed: 4, residual: 3, cedar: 0, policiesEvaluated: 9, prepared: 2 });
  });

  it("cedar-wasm: the policies of the set each authorization call is given (in reach, the agent's slice, the deployment)", () => {
    expect(run({ evaluator: 'cedar' }).stats()).toMatchObject({ cedar: 3, policiesEvaluated: 9 });
    // bot's slice: the global cap, its 3 policies and its shorthand permit.
    expect(run({ strategy: 'agent' }).stats()).toMatchObject({ cedar: 3, policiesEvaluated: 3 * 5, prepared: 0 });
    // The deployment: the slice plus `other`'s shorthand.
    expect(run({ strategy: 'full' }).stats()).toMatchObject({ cedar: 3, policiesEvaluated: 3 * 6, prepared: 0 });
  });
});
