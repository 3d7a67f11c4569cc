/**
 * A small IAM policy evaluator for tests, after the IAM User Guide's evaluation logic (reference
 * aws-semantics.md §3): an explicit Deny anywhere wins; an SCP (and a permissions boundary) must
 * allow too; otherwise an identity Allow is needed (implicit deny). Action matching is
 * case-insensitive with `*`/`?`; resource matching applies `*`/`?` within each colon-separated ARN
 * segment (a `*` may cross `/`), never in the service segment. Conditions: the String, Numeric and
 * IpAddress operators, `…IfExists`, `Null`, `ForAllValues:`/`ForAnyValue:`, and `${aws:…}` variables
 * (Version 2012-10-17 only).
 */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Policy {
  Version?: string;
  Statement: Statement | Statement[];
}

export interface Request {
  action: string;
  resource: string;
  /** Condition keys; a missing key is absent. Multi-valued keys are arrays. */
  context?: Record<string, string | number | boolean | string[]>;
}

export type Decision = 'ALLOW' | 'DENY';

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function globRegex(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

export function actionMatches(pattern: string, action: string): boolean {
  return globRegex(pattern, 'i').test(action);
}

/** `*` alone matches any resource; otherwise segment by segment (the last may absorb the rest). */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.split(':');
  const r = resource.split(':');
  if (p.length < 6 || r.length < 6) return pattern === resource;
  if (/[*?]/.test(p[2]!)) return false; // no wildcards in the service segment
  if (p[2] !== r[2] || p[0] !== r[0]) return false;
  for (let i = 1; i < p.length; i++) {
    const last = i === p.length - 1;
    const segment = last ? r.slice(i).join(':') : r[i];
    if (segment === undefined) return false;
    if (!globRegex(p[i]!).test(segment)) return false;
  }
  return p.length <= r.length;
}

function substitute(value: string, policy: Policy, context: Request['context'] = {}): string | undefined {
  if (policy.Version !== '2012-10-17') return value; // variables are literal text in older versions
  let missing = false;
  const out = value.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    const v = context[name];
    if (v === undefined || Array.isArray(v)) {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? undefined : out;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base!);
  if (a === undefined || b === undefined) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (a & mask) === (b & mask);
}

/** One operator applied to one request value and one policy value. */
function compare(op: string, actual: string | number | boolean, expected: string): boolean {
  const a = String(actual);
  switch (op) {
    case 'StringEquals':
      return a === expected;
    case 'StringEqualsIgnoreCase':
      return a.toLowerCase() === expected.toLowerCase();
    case 'StringLike':
      return globRegex(expected).test(a);
    case 'NumericEquals':
      return Number(a) === Number(expected);
    case 'NumericLessThan':
      return Number(a) < Number(expected);
    case 'NumericLessThanEquals':
      return Number(a) <= Number(expected);
    case 'NumericGreaterThan':
      return Number(a) > Number(expected);
    case 'NumericGreaterThanEquals':
      return Number(a) >= Number(expected);
    case 'Bool':
      return a.toLowerCase() === expected.toLowerCase();
    case 'IpAddress':
      return inCidr(a, expected);
    default:
      throw new Error(`operator ${op} is not implemented in the test evaluator`);
  }
}

const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals',
  NotIpAddress: 'IpAddress',
};

function conditionHolds(operator: string, key: string, values: string[], request: Request, policy: Policy): boolean {
  const ctx = request.context ?? {};
  // Key names are case-insensitive.
  const found = Object.keys(ctx).find((k) => k.toLowerCase() === key.toLowerCase());
  const actual = found === undefined ? undefined : ctx[found];
  const expected = values.map((v) => substitute(v, policy, ctx)).filter((v): v is string => v !== undefined);
  if (operator === 'Null') return (actual === undefined) === (values[0] === 'true');
  let op = operator;
  let set: 'all' | 'any' | undefined;
  if (op.startsWith('ForAllValues:')) [set, op] = ['all', op.slice('ForAllValues:'.length)];
  else if (op.startsWith('ForAnyValue:')) [set, op] = ['any', op.slice('ForAnyValue:'.length)];
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const negated = NEGATED[op];
  const base = negated ?? op;
  if (set) {
    const items = actual === undefined ? [] : Array.isArray(actual) ? actual : [actual];
    const match = (item: string | number | boolean) => expected.some((e) => compare(base, item, e));
    const result = set === 'all' ? items.every(match) : items.some(match);
    return negated ? !result : result;
  }
  if (actual === undefined) return ifExists || negated !== undefined;
  const values1 = Array.isArray(actual) ? actual : [actual];
  if (negated) return values1.every((a) => expected.every((e) => !compare(base, a, e)));
  return values1.some((a) => expected.some((e) => compare(base, a, e)));
}

function statementApplies(s: Statement, request: Request, policy: Policy): boolean {
  const actionOk =
    s.NotAction !== undefined ? !list(s.NotAction).some((a) => actionMatches(a, request.action)) : list(s.Action).some((a) => actionMatches(a, request.action));
  if (!actionOk) return false;
  const resourceMatch = (r: string) => {
    const pattern = substitute(r, policy, request.context);
    return pattern !== undefined && resourceMatches(pattern, request.resource);
  };
  const resourceOk = s.NotResource !== undefined ? !list(s.NotResource).some(resourceMatch) : list(s.Resource).some(resourceMatch);
  if (!resourceOk) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) if (!conditionHolds(operator, key, list(values), request, policy)) return false;
  }
  return true;
}

function effects(policies: Policy[], request: Request): { allow: boolean; deny: boolean } {
  let allow = false;
  let deny = false;
  for (const policy of policies) {
    for (const s of list(policy.Statement)) {
      if (!statementApplies(s, request, policy)) continue;
      if (s.Effect === 'Deny') deny = true;
      else allow = true;
    }
  }
  return { allow, deny };
}

export interface Principal {
  identity: Policy[];
  /** The service control policies attached to the account (one level): together they must allow. */
  scps?: Policy[];
  boundary?: Policy;
}

/** The decision for one request (one account; no resource policies). */
export function evaluate(principal: Principal, request: Request): Decision {
  const all = [...principal.identity, ...(principal.scps ?? []), ...(principal.boundary ? [principal.boundary] : [])];
  if (effects(all, request).deny) return 'DENY';
  if (principal.scps && !effects(principal.scps, request).allow) return 'DENY';
  if (!effects(principal.identity, request).allow) return 'DENY';
  if (principal.boundary && !effects([principal.boundary], request).allow) return 'DENY';
  return 'ALLOW';
}

/** AWS's default SCP: what every account has unless replaced (the fmguard SCP is attached beside it). */
export const FULL_AWS_ACCESS: Policy = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } };
