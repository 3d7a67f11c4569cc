import { cedar } from '../../src/policy/cedar.ts';
import { describe, expect, it } from 'vitest';
import { compileResidual, isEvalError, type Context } from '../../src/policy/residual.ts';

// The JS residual evaluator against cedar-wasm itself: each condition, over contexts of every
// shape (missing keys, wrong types, sets, records), must be satisfied / not / errored exactly when
// Cedar says so.
const KEYS = ['s', 'n', 'b', 'set', 'rec'];

const CONDITIONS = [
  'context.s like "*@example.com"',
  'context.s like "a*b*c"',
  'context.s like "*"',
  'context.s like "x\\*y"',
  'context.s like "**a**"',
  'context.s == "abc"',
  'context.s != "abc"',
  'context.n < 10',
  'context.n >= 10 && context.n <= 20',
  'context.n > 5 || context.s == "x"',
  '!(context.b)',
  'context.b && context.n == 3',
  'if context.b then context.n < 0 else context.s like "a*"',
  'context.set.contains("a")',
  'context.set.containsAll(["a", "b"])',
  'context.set.containsAny(["z", 1])',
  'context.set.isEmpty()',
  'context.set == ["b", "a"]',
  'context.rec has x',
  'context.rec has x.y',
  'context.rec.x == 1',
  'context.rec == {"x": 1}',
  'context.rec has x && context.rec.x.y == "deep"',
  '[1, 2, 3].contains(context.n)',
  'context.n == 3 || context.n == "3"',
];

const CONTEXTS: Context[] = [
  { s: 'me@example.com', n: 3, b: true, set: ['a', 'b'], rec: { x: 1 } },
  { s: 'abc', n: 15, b: false, set: [], rec: { x: { y: 'deep' } } },
  { s: 'axbyc', n: -4, b: true, set: ['z'], rec: {} },
  { s: 'x*y', n: 10, b: false, set: ['a', 'b', 'a'], rec: { x: 'str' } },
  { s: '', n: 20, b: true, set: [1, 'b'], rec: { x: [1] } },
  { s: 'aa', n: 3 },
  { s: 5, n: 'x', b: 'yes', set: 'a', rec: 'r' },
  {},
  { s: 'xy', n: 21, b: false, set: ['b', 'a'], rec: { x: 1, z: 2 } },
];

type Outcome = 'satisfied' | 'not' | 'error';

function viaCedar(policy: string, context: Context): Outcome {
  const answer = cedar().isAuthorized({
    principal: { type: 'P', id: 'p' },
    action: { type: 'A', id: 'a' },
    resource: { type: 'R', id: 'r' },
    context: context as Record<string, never>,
    entities: [],
    policies: { staticPolicies: { p: policy } },
  });
  if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
  if (answer.response.diagnostics.errors.length > 0) return 'error';
  return answer.response.decision === 'allow' ? 'satisfied' : 'not';
}

function viaResidual(policy: string, context: Context): Outcome | 'unsupported' {
  const unknowns = Object.fromEntries(KEYS.map((k) => [k, { __extn: { fn: 'unknown', arg: k } }]));
  const partial = cedar().isAuthorizedPartial({
    principal: { type: 'P', id: 'p' },
    action: { type: 'A', id: 'a' },
    resource: { type: 'R', id: 'r' },
    context: unknowns,
    entities: [],
    policies: { staticPolicies: { p: policy } },
  });
  if (partial.type !== 'residuals') throw new Error('partial evaluation failed');
  const residual = partial.response.residuals.p;
  if (!residual || !partial.response.nontrivialResiduals.includes('p')) return 'unsupported';
  const compiled = compileResidual('p', residual);
  if (!compiled) return 'unsupported';
  try {
    return compiled.test(context) ? 'satisfied' : 'not';
  } catch (err) {
    if (isEvalError(err)) return 'error';
    throw err;
  }
}

describe('residual evaluator agrees with cedar-wasm', () => {
  for (const condition of CONDITIONS) {
    it(condition, () => {
      const policy = `permit(principal, action, resource) when { ${condition} };`;
      for (const context of CONTEXTS) {
        const js = viaResidual(policy, context);
        expect(js, `${condition} with ${JSON.stringify(context)}`).not.toBe('unsupported');
        expect(js, `${condition} with ${JSON.stringify(context)}`).toBe(viaCedar(policy, context));
      }
    });
  }

  it('leaves what it does not implement to cedar-wasm', () => {
    for (const condition of ['context.n + 1 > 2', 'context.d.lessThan(decimal("1.0"))', 'context.e in Fmguard::Tenant::"x"']) {
      expect(viaResidual(`permit(principal, action, resource) when { ${condition} };`, { n: 1 })).toBe('unsupported');
    }
  });

  it('matches long adversarial strings against many-wildcard patterns in linear time', () => {
    const policy = 'permit(principal, action, resource) when { context.s like "*a*a*a*a*a*a*a*a*b" };';
    const s = 'a'.repeat(50_000);
    const start = performance.now();
    expect(viaResidual(policy, { s })).toBe('not');
    // Backtracking would take minutes here; 2 s is generous for a loaded 2-core machine.
    expect(performance.now() - start).toBeLessThan(2000);
    expect(viaResidual(policy, { s: `${s}b` })).toBe('satisfied');
  });
});
