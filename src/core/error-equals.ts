/**
 * `errorEquals` lists, as retriers (`retry.ts`) and catchers (`catch.ts`) write them: stop codes,
 * family wildcards (`'timeout.*'`) or `'all'`, alone in the last of its list. One checker for both;
 * each says which codes and families it accepts. Pure.
 */
import { isStopCode, type StopCode } from './codes.ts';

/** The analogue of `States.ALL`. */
export const ALL = 'all';

/** The family of a stop code: `timeout` for `timeout.idle`. */
export function familyOf(code: string): string {
  const dot = code.indexOf('.');
  return dot < 0 ? code : code.slice(0, dot);
}

export interface ErrorEqualsRules {
  /** What holds the list, in messages (`retrier`, `catcher`). */
  owner: string;
  /** Why a family wildcard (`entry`, of family `fam`) may not stand, or undefined when it may. */
  family(entry: string, fam: string): string | undefined;
  /** Why a known stop code may not stand, or undefined when it may. */
  code(code: StopCode): string | undefined;
}

/**
 * Reports through `add` every problem of the `errorEquals` of the item at `at` (`retry[1]`); `last`:
 * whether that item is the last of its list (the only place `'all'` may stand).
 */
export function checkErrorEquals(eq: unknown, at: string, last: boolean, rules: ErrorEqualsRules, add: (path: string, message: string) => void): void {
  if (!Array.isArray(eq) || eq.length === 0) return add(`${at}.errorEquals`, 'expected a non-empty list of stop codes');
  eq.forEach((e: unknown, j) => {
    const ep = `${at}.errorEquals[${j}]`;
    if (typeof e !== 'string') return add(ep, 'expected a string');
    if (e === ALL) return;
    const problem = e.endsWith('.*') ? rules.family(e, e.slice(0, -2)) : isStopCode(e) ? rules.code(e) : `unknown stop code '${e}'`;
    if (problem !== undefined) add(ep, problem);
  });
  if (eq.includes(ALL) && (eq.length !== 1 || !last)) add(`${at}.errorEquals`, `'${ALL}' must be the only entry of the last ${rules.owner}`);
}
