import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyJson } from './cedar.ts';

/**
 * A JavaScript evaluator for the residuals Cedar's partial evaluation leaves once the agent and the
 * resource are known: conditions over the request context only (`context.input.amount > 100`).
 * Cedar remains the reference: anything outside the subset below (extension functions, entities,
 * arithmetic, `in`/`is`, tags) makes `compileResidual` return undefined and the engine evaluates
 * that target with cedar-wasm instead. Semantics follow Cedar: `&&`/`||`/`if` short-circuit and need
 * booleans; `<` and friends need Longs; `==` across types is false; reading a missing attribute,
 * or any type mismatch, is an error (the policy is then "errored", as Cedar reports it).
 */
export type Context = Readonly<Record<string, CedarValueJson>>;
type Value = CedarValueJson;
type Fn = (ctx: Context) => Value;

/** Thrown inside evaluation only; caught per policy. */
class ResidualEvalError extends Error {}
const fail = (what: string): never => {
  throw new ResidualEvalError(what);
};

export interface ResidualPolicy {
  readonly id: string;
  /** Whether every condition holds; throws when Cedar would report an evaluation error. */
  readonly test: (ctx: Context) => boolean;
  /** Context attributes it reads. */
  readonly keys: ReadonlySet<string>;
}

export function compileResidual(id: string, json: PolicyJson): ResidualPolicy | undefined {
  if (json.principal.op !== 'All' || json.action.op !== 'All' || json.resource.op !== 'All') return undefined;
  const keys = new Set<string>();
  const conditions: { when: boolean; fn: Fn }[] = [];
  for (const c of json.conditions) {
    const fn = compile(c.body as unknown, keys);
    if (!fn) return undefined;
    conditions.push({ when: c.kind === 'when', fn });
  }
  const test = (ctx: Context): boolean => {
    for (const c of conditions) {
      const v = c.fn(ctx);
      if (typeof v !== 'boolean') fail('condition is not a boolean');
      if (v !== c.when) return false;
    }
    return true;
  };
  return { id, test, keys };
}

export function isEvalError(err: unknown): boolean {
  return err instanceof ResidualEvalError;
}

function compile(node: unknown, keys: Set<string>): Fn | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const entries = Object.entries(node);
  if (entries.length !== 1) return undefined;
  // biome-ignore lint/suspicious/noExplicitAny: a Cedar JSON expression node; each operator checks its own shape
  const [op, arg] = entries[0]! as [string, any];
  const sub = (n: unknown): Fn | undefined => compile(n, keys);
  switch (op) {
    case 'Value':
      return literal(arg);
    case 'unknown': {
      // Partial evaluation names each unknown context attribute after its key.
      const name = Array.isArray(arg) && arg.length === 1 ? arg[0]?.Value : undefined;
      if (typeof name !== 'string') return undefined;
      keys.add(name);
      return (ctx) => (Object.hasOwn(ctx, name) ? ctx[name]! : fail(`context has no ${name}`));
    }
    case '&&':
    case '||': {
      const l = sub(arg.left);
      const r = sub(arg.right);
      if (!l || !r) return undefined;
      const short = op === '||';
      return (ctx) => {
        const a = l(ctx);
        if (typeof a !== 'boolean') return fail(`${op} needs booleans`);
        if (a === short) return short;
        const b = r(ctx);
        return typeof b === 'boolean' ? b : fail(`${op} needs booleans`);
      };
    }
    case '!': {
      const a = sub(arg.arg);
      if (!a) return undefined;
      return (ctx) => {
        const v = a(ctx);
        return typeof v === 'boolean' ? !v : fail('! needs a boolean');
      };
    }
    case 'if-then-else': {
      const c = sub(arg.if);
      const t = sub(arg.then);
      const e = sub(arg.else);
      if (!c || !t || !e) return undefined;
      return (ctx) => {
        const v = c(ctx);
        if (typeof v !== 'boolean') return fail('if needs a boolean');
        return v ? t(ctx) : e(ctx);
      };
    }
    case '==':
    case '!=': {
      const l = sub(arg.left);
      const r = sub(arg.right);
      if (!l || !r) return undefined;
      return op === '==' ? (ctx) => equal(l(ctx), r(ctx)) : (ctx) => !equal(l(ctx), r(ctx));
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const l = sub(arg.left);
      const r = sub(arg.right);
      if (!l || !r) return undefined;
      const cmp = COMPARE[op];
      return (ctx) => {
        const a = l(ctx);
        const b = r(ctx);
        return typeof a === 'number' && typeof b === 'number' ? cmp(a, b) : fail(`${op} needs Longs`);
      };
    }
    case '.': {
      const l = sub(arg.left);
      const attr = arg.attr;
      if (!l || typeof attr !== 'string') return undefined;
      return (ctx) => {
        const rec = asRecord(l(ctx));
        return Object.hasOwn(rec, attr) ? rec[attr]! : fail(`no attribute ${attr}`);
      };
    }
    case 'has': {
      const l = sub(arg.left);
      const path: unknown[] = Array.isArray(arg.attr) ? arg.attr : [arg.attr];
      if (!l || path.length === 0 || !path.every((p) => typeof p === 'string')) return undefined;
      return (ctx) => {
        let v = l(ctx);
        // `e has a.b` is `e has a && e.a has b`: each step needs a record.
        for (let i = 0; i < path.length; i++) {
          const rec = asRecord(v);
          const key = path[i] as string;
          if (!Object.hasOwn(rec, key)) return false;
          v = rec[key]!;
        }
        return true;
      };
    }
    case 'like': {
      const l = sub(arg.left);
      const pattern = compilePattern(arg.pattern);
      if (!l || !pattern) return undefined;
      return (ctx) => {
        const s = l(ctx);
        return typeof s === 'string' ? globMatch(pattern, s) : fail('like needs a String');
      };
    }
    case 'contains':
    case 'containsAll':
    case 'containsAny': {
      const l = sub(arg.left);
      const r = sub(arg.right);
      if (!l || !r) return undefined;
      return (ctx) => {
        const set = asSet(l(ctx));
        const v = r(ctx);
        if (op === 'contains') return set.some((x) => equal(x, v));
        const other = asSet(v);
        return op === 'containsAll' ? other.every((x) => set.some((y) => equal(x, y))) : other.some((x) => set.some((y) => equal(x, y)));
      };
    }
    case 'isEmpty': {
      const a = sub(arg.arg);
      if (!a) return undefined;
      return (ctx) => asSet(a(ctx)).length === 0;
    }
    case 'Set': {
      if (!Array.isArray(arg)) return undefined;
      const items = arg.map(sub);
      if (items.some((f) => !f)) return undefined;
      return (ctx) => items.map((f) => f!(ctx));
    }
    case 'Record': {
      if (arg === null || typeof arg !== 'object') return undefined;
      const fields = Object.entries(arg as Record<string, unknown>).map(([k, v]) => [k, sub(v)] as const);
      if (fields.some(([k, f]) => !f || k === '__extn' || k === '__entity')) return undefined;
      return (ctx) => {
        const out: Record<string, Value> = {};
        for (const [k, f] of fields) out[k] = f!(ctx);
        return out;
      };
    }
    default:
      return undefined;
  }
}

const COMPARE = {
  '<': (a: number, b: number) => a < b,
  '<=': (a: number, b: number) => a <= b,
  '>': (a: number, b: number) => a > b,
  '>=': (a: number, b: number) => a >= b,
} as const;

/** Literals fmguard can compare exactly: safe integers, strings, booleans, sets and records of them. */
function literal(v: unknown): Fn | undefined {
  if (!plainValue(v)) return undefined;
  const value = v as Value;
  return () => value;
}

function plainValue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isSafeInteger(v);
    case 'object':
      if (v === null) return false;
      if (Array.isArray(v)) return v.every(plainValue);
      if (Object.hasOwn(v, '__extn') || Object.hasOwn(v, '__entity')) return false;
      return Object.values(v).every(plainValue);
    default:
      return false;
  }
}

// Context values: arrays are sets, `{__extn}` objects are decimals, other objects records.
function isDecimal(v: Value): v is { __extn: { fn: string; arg: string } } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, '__extn');
}

function isRecord(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isDecimal(v);
}

function asRecord(v: Value): Record<string, Value> {
  return isRecord(v) ? v : fail('not a record');
}

function asSet(v: Value): Value[] {
  return Array.isArray(v) ? v : fail('not a set');
}

/** Cedar equality: false across types, sets compare as sets, records and decimals by value. */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return false;
    return a.every((x) => b.some((y) => equal(x, y))) && b.every((y) => a.some((x) => equal(x, y)));
  }
  if (isDecimal(a) || isDecimal(b)) {
    // Decimals only come from the context, always written with 4 places: equal values, equal text.
    return isDecimal(a) && isDecimal(b) && a.__extn.fn === b.__extn.fn && a.__extn.arg === b.__extn.arg;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const rb = b as Record<string, Value>;
  return ka.every((k) => Object.hasOwn(rb, k) && equal((a as Record<string, Value>)[k]!, rb[k]!));
}

/** A `like` pattern as literal segments between wildcards. */
interface Pattern {
  readonly segments: readonly string[];
}

function compilePattern(elems: unknown): Pattern | undefined {
  if (!Array.isArray(elems)) return undefined;
  const segments: string[] = [''];
  for (const e of elems) {
    if (e === 'Wildcard') segments.push('');
    else if (e && typeof e === 'object' && typeof (e as { Literal?: unknown }).Literal === 'string')
      segments[segments.length - 1] += (e as { Literal: string }).Literal;
    else return undefined;
  }
  return { segments };
}

/**
 * `*` matches any run of characters, the rest literally, over the whole string. First segment
 * anchors the start, last the end, the middle ones are found left to right (greedy leftmost is
 * optimal for `*`-only globs), so matching is linear in the input, whatever the pattern.
 */
export function globMatch({ segments }: Pattern, s: string): boolean {
  const first = segments[0]!;
  if (segments.length === 1) return s === first;
  const last = segments[segments.length - 1]!;
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let pos = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const at = s.indexOf(seg, pos);
    if (at === -1 || at + seg.length > end) return false;
    pos = at + seg.length;
  }
  return true;
}
