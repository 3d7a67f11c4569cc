/**
 * Catchers with Step Functions `Catch` semantics (reference/aws-semantics.md §1), over fmguard stop
 * codes: scanned in array order after the retriers are exhausted (or when no retrier matched), the
 * first whose `errorEquals` matches routes the call to its `next` model or tool. Pure.
 *
 * Only failures of the upstream are catchable: `upstream.error`, the timeouts, `rate.limited` (the
 * upstream's 429) and `breaker.open`. fmguard's own refusals (limits, policy, kill switch, loops,
 * approvals, budgets, the store) are never caught, as `States.Runtime` and `States.DataLimitExceeded`
 * escape `States.ALL` (vector S8); naming one in `errorEquals` is a validation error.
 * `'all'` (the analogue of `States.ALL`) stands alone in the last catcher.
 */
import type { StopCode } from './codes.ts';
import { ALL, checkErrorEquals, familyOf, type ErrorEqualsRules } from './error-equals.ts';

export interface Catcher {
  /** Catchable stop codes, family wildcards (`'timeout.*'`) or `'all'` (alone, in the last catcher). */
  errorEquals: readonly string[];
  /** The model (for a model's catchers) or the `server.tool` (for a tool's) that takes over. */
  next: string;
}

export interface CatchProblem {
  path: string;
  message: string;
}

const CATCHER_KEYS = new Set(['errorEquals', 'next']);

/** The codes a catcher can match: failures of the upstream, never fmguard's own refusals. */
export const CATCHABLE_CODES: readonly StopCode[] = Object.freeze([
  'upstream.error',
  'timeout.total',
  'timeout.first_token',
  'timeout.idle',
  'timeout.tool',
  'rate.limited',
  'breaker.open',
] as StopCode[]);

const CATCHABLE = new Set<string>(CATCHABLE_CODES);

export function isCatchableCode(code: string): boolean {
  return CATCHABLE.has(code);
}

/** Whether one `errorEquals` entry matches `code` (assumes the entry is valid). */
export function catchEntryMatches(entry: string, code: StopCode): boolean {
  if (!isCatchableCode(code)) return false;
  if (entry === ALL) return true;
  if (entry.endsWith('.*')) return familyOf(code) === entry.slice(0, -2);
  return entry === code;
}

/** What a catcher's `errorEquals` may name: the catchable codes, and families with one. */
const CATCHER_EQUALS: ErrorEqualsRules = {
  owner: 'catcher',
  family: (e, fam) =>
    CATCHABLE_CODES.some((code) => familyOf(code) === fam) ? undefined : `'${e}' matches no catchable code (catchable: ${CATCHABLE_CODES.join(', ')})`,
  code: (e) => (isCatchableCode(e) ? undefined : `'${e}' is fmguard's own refusal and is never caught (catchable: ${CATCHABLE_CODES.join(', ')})`),
};

/** The first catcher (in array order) whose `errorEquals` matches `code`, with its index. */
export function findCatcher(catchers: readonly Catcher[] | undefined, code: StopCode): { catcher: Catcher; index: number } | undefined {
  if (!catchers) return undefined;
  for (let i = 0; i < catchers.length; i++) {
    const catcher = catchers[i]!;
    if (catcher.errorEquals.some((e) => catchEntryMatches(e, code))) return { catcher, index: i };
  }
  return undefined;
}

/**
 * Every problem in a list of catchers, each naming its path (`models.a.catch[1].next`). `exists` says
 * whether a `next` names a known model or tool; `self` is the owner's own name (no self-reference).
 */
export function validateCatchers(catchers: unknown, path: string, self: string, exists: (next: string) => boolean): CatchProblem[] {
  const problems: CatchProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  if (!Array.isArray(catchers)) {
    add(path, 'expected a list of catchers');
    return problems;
  }
  catchers.forEach((c: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return add(at, 'expected an object with errorEquals and next');
    const o = c as Record<string, unknown>;
    for (const key of Object.keys(o)) if (!CATCHER_KEYS.has(key)) add(`${at}.${key}`, 'unknown field (expected errorEquals, next)');
    checkErrorEquals(o.errorEquals, at, i === catchers.length - 1, CATCHER_EQUALS, add);
    if (typeof o.next !== 'string' || o.next.length === 0) add(`${at}.next`, 'expected the name of the fallback');
    else if (o.next === self) add(`${at}.next`, `a catcher cannot route "${self}" to itself`);
    else if (!exists(o.next)) add(`${at}.next`, `unknown "${o.next}"`);
  });
  return problems;
}

/**
 * A cycle through `next` links (a → b → a), as a path of names, or undefined. `edges(name)` lists the
 * `next`s of one node's catchers.
 */
export function findCatchCycle(nodes: readonly string[], edges: (name: string) => readonly string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const next of edges(n)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return undefined;
}
