import { describe, expect, it } from 'vitest';
import { cedar } from '../../src/policy/cedar.ts';
import { compilePolicies } from '../../src/policy/compile.ts';
import { createPolicyEngine, type AgentPolicySpec, type PolicySpec } from '../../src/policy/index.ts';
import { MODELS, SERVERS, model, tool } from './helpers.ts';

/**
 * Issue 13: startup with many agents. Agents' shorthand with the same shape is validated, converted
 * and partially evaluated once (as a template for a placeholder agent) and shared; these check that
 * every agent still gets exactly its own decisions, and that sharing stops where a policy can tell
 * agents apart. Not timed (bench:startup measures).
 */
const N = 1000;
const SAMPLE = [0, 1, 2, 3, 5, 6, 7, 10, 14, 15, 21, 30, 35, 42, 77, 105, 210, 499, 500, 998, 999];

function agentSpec(i: number): AgentPolicySpec {
  return {
    id: `agent-${i}`,
    tenant: `t${i % 10}`,
    allow: {
      models: ['sim-small', i % 3 === 0 ? 'sim-*' : 'gpt-4o-mini'],
      tools: [`demo.read_file`, i % 5 === 0 ? 'payments.*' : 'demo.search', i % 7 === 0 ? 'demo.*' : 'demo.write_file'],
    },
    deny: { tools: [i % 2 === 0 ? 'demo.write_file' : 'demo.send_*'] },
    ...(i % 11 === 0 ? { approve: { tools: ['payments.process_refund'] } } : {}),
  };
}

/** What the shorthand above means, written out: the oracle for a sampled agent. */
function expected(i: number, action: 'model' | 'tool', name: string): string {
  const a = agentSpec(i);
  const matches = (p: string) => p === name || (p.endsWith('*') && name.startsWith(p.slice(0, -1)));
  const kind = action === 'model' ? 'models' : 'tools';
  if ((a.deny?.[kind] ?? []).some(matches)) return 'deny';
  if ((a.approve?.[kind] ?? []).some(matches)) return 'approval';
  if ((a.allow?.[kind] ?? []).some(matches)) return 'allow';
  return 'deny';
}

const spec = (extra: Partial<PolicySpec> = {}): PolicySpec => ({
  agents: Array.from({ length: N }, (_, i) => agentSpec(i)),
  models: MODELS,
  toolServers: SERVERS,
  ...extra,
});

const MODEL_NAMES = ['sim-small', 'sim-large', 'gpt-4o-mini', 'unknown-model'];
const TOOL_NAMES = ['demo.read_file', 'demo.search', 'demo.write_file', 'demo.send_email', 'payments.process_refund', 'other.tool'];

describe('1,000 agents (issue 13)', () => {
  it('builds, warms, and decides each sampled agent by its own shorthand, naming its own policies', { timeout: 120_000 }, () => {
    const engine = createPolicyEngine(spec());
    expect(engine.warm()).toBe(N * (MODELS.length + 5));
    for (const i of SAMPLE) {
      for (const m of MODEL_NAMES) {
        const d = engine.decide(model(`agent-${i}`, m));
        expect(d.effect, `agent-${i} ${m}`).toBe(expected(i, 'model', m));
        for (const id of d.policies) expect(id.startsWith(`agent:agent-${i}:`), id).toBe(true);
      }
      for (const t of TOOL_NAMES) {
        const d = engine.decide(tool(`agent-${i}`, t, t === 'payments.process_refund' ? { amount: 5 } : {}));
        expect(d.effect, `agent-${i} ${t}`).toBe(expected(i, 'tool', t));
        for (const id of d.policies) expect(id.startsWith(`agent:agent-${i}:`), id).toBe(true);
      }
    }
  });

  it('agrees with evaluating each sampled agent on its own slice with cedar-wasm (no sharing)', { timeout: 120_000 }, () => {
    const global = [
      {
        name: 'global.cedar',
        text: [
          // Blind to which agent asks: shared.
          '@id("g:cap") forbid(principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"payments.process_refund") when { context.input has amount && context.input.amount > 100 };',
          '@id("g:t3") forbid(principal in Fmguard::Tenant::"t3", action, resource == Fmguard::Tool::"demo.search");',
          // Tells agents apart: every agent is evaluated on its own.
          '@id("g:one") forbid(principal, action, resource) when { principal.name == "agent-7" };',
        ].join('\n'),
      },
    ];
    const s = spec({ global });
    const engine = createPolicyEngine(s);
    const own = createPolicyEngine(s, { strategy: 'agent' });
    engine.warm();
    const norm = (d: ReturnType<typeof own.decide>) => ({ ...d, policies: [...d.policies].sort() });
    for (const i of SAMPLE) {
      for (const m of MODEL_NAMES) {
        const r = model(`agent-${i}`, m);
        expect(norm(engine.decide(r)), JSON.stringify(r)).toEqual(norm(own.decide(r)));
      }
      for (const t of TOOL_NAMES) {
        for (const amount of [5, 500]) {
          const r = tool(`agent-${i}`, t, t === 'payments.process_refund' ? { amount } : {});
          expect(norm(engine.decide(r)), JSON.stringify(r)).toEqual(norm(own.decide(r)));
        }
      }
    }
    expect(engine.decide(model('agent-7', 'sim-small'))).toMatchObject({ effect: 'deny', reason: 'forbid', policies: ['g:one'] });
    expect(engine.decide(model('agent-14', 'sim-small'))).toMatchObject({ effect: 'allow' });
    expect(engine.decide(tool('agent-13', 'demo.search'))).toMatchObject({ effect: 'deny', policies: ['g:t3'] });
    expect(engine.decide(tool('agent-11', 'payments.process_refund', { amount: 500 }))).toMatchObject({ effect: 'deny', policies: ['g:cap'] });
    expect(engine.decide(tool('agent-11', 'payments.process_refund', { amount: 5 }))).toMatchObject({
      effect: 'approval',
      policies: ['agent:agent-11:approve:tools:payments.process_refund'],
    });
  });

  it("each agent's shorthand JSON is what cedar-wasm makes of its own text", () => {
    const s = spec();
    const compiled = compilePolicies({ ...s, agents: SAMPLE.map(agentSpec).concat([{ id: 'we"ird\\name', tenant: 't', allow: { tools: ['demo.*'] } }]) });
    expect(compiled.problems.filter((p) => p.severity === 'error')).toEqual([]);
    let checked = 0;
    for (const p of compiled.policies.values()) {
      const own = cedar().policyToJson(p.text);
      expect(own.type).toBe('success');
      if (own.type === 'success') expect(p.json, p.id).toEqual(own.json);
      checked++;
    }
    expect(checked).toBeGreaterThan(SAMPLE.length * 5);
  });
});
