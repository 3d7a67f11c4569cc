import { describe, expect, it } from 'vitest';
import { createPolicyEngine, PolicyConfigError } from '../../src/policy/index.ts';
import { baseSpec, tool } from './helpers.ts';

// aws-semantics.md §5, A1–A4, in fmguard's entity model: the AgentCore OAuth user's `username` claim
// is an entity tag on the agent; the refund tool is `payments.process_refund`; `context.input` is
// the tool call's arguments.
const REFUND = `@id("refund-under-500")
permit (
  principal is Fmguard::Agent,
  action == Fmguard::Action::"callTool",
  resource == Fmguard::Tool::"payments.process_refund"
)
when {
  principal.hasTag("username") && principal.getTag("username") == "John" &&
  context.input has amount && context.input.amount < 500
};`;

const FORBID_OVER_100 = `@id("forbid-over-100")
forbid (principal, action == Fmguard::Action::"callTool", resource)
when { context.input has amount && context.input.amount > 100 };`;

function engine(global: string[]) {
  return createPolicyEngine(
    baseSpec({
      agents: [
        { id: 'john-agent', tenant: 'acme', tags: { username: 'John' } },
        { id: 'jane-agent', tenant: 'acme', tags: { username: 'Jane' } },
      ],
      global: global.map((text, i) => ({ name: `vector-${i}.cedar`, text })),
    }),
  );
}

describe('AgentCore Cedar vectors A1–A4', () => {
  const refund = (agent: string, amount: number) => tool(agent, 'payments.process_refund', { amount });

  it('A1: John, amount 200 → ALLOW, determined by the refund policy', () => {
    expect(engine([REFUND]).decide(refund('john-agent', 200))).toEqual({ effect: 'allow', policies: ['refund-under-500'], shadow: false });
  });

  it('A2: John, amount 500 or 3000 → DENY (`<` is strict)', () => {
    const e = engine([REFUND]);
    expect(e.decide(refund('john-agent', 500))).toEqual({ effect: 'deny', reason: 'no-permit', policies: [], shadow: false });
    expect(e.decide(refund('john-agent', 3000))).toMatchObject({ effect: 'deny', reason: 'no-permit' });
    expect(e.decide(refund('john-agent', 499))).toMatchObject({ effect: 'allow' });
  });

  it('A3: Jane, amount 200 → DENY (default deny)', () => {
    expect(engine([REFUND]).decide(refund('jane-agent', 200))).toMatchObject({ effect: 'deny', reason: 'no-permit', policies: [] });
  });

  it('A4: A1 plus a forbid on amount > 100 → DENY (forbid wins), reported by the forbid id', () => {
    const e = engine([REFUND, FORBID_OVER_100]);
    expect(e.decide(refund('john-agent', 200))).toEqual({ effect: 'deny', reason: 'forbid', policies: ['forbid-over-100'], shadow: false });
    // Below the forbid's threshold the permit still allows.
    expect(e.decide(refund('john-agent', 50))).toMatchObject({ effect: 'allow', policies: ['refund-under-500'] });
  });

  it('the verbatim AgentCore condition (no `has` test) is rejected at creation: the argument is optional', () => {
    const bare = REFUND.replace('context.input has amount && ', '');
    expect(() => engine([bare])).toThrow(PolicyConfigError);
    try {
      engine([bare]);
    } catch (err) {
      const problem = (err as PolicyConfigError).problems[0]!;
      expect(problem).toMatchObject({ source: 'vector-0.cedar', line: 9, severity: 'error' });
      expect(problem.help).toContain('context.input has amount');
    }
  });
});
