/**
 * Catchers on their own (src/core/catch.ts, src/core/error-equals.ts): which codes a catcher matches
 * (Step Functions Catch, reference/aws-semantics.md §1: array order, first match, family wildcards),
 * the problems the config loader reports for a list of catchers (each with its path and the message
 * the user reads), and the cycle search over `next` links.
 */
import { describe, expect, it } from 'vitest';
import { CATCHABLE_CODES, findCatchCycle, findCatcher, validateCatchers, type Catcher } from '../../src/core/catch.ts';
import { checkErrorEquals, familyOf } from '../../src/core/error-equals.ts';

const CATCHABLE_LIST = 'upstream.error, timeout.total, timeout.first_token, timeout.idle, timeout.tool, rate.limited, breaker.open';

const known = new Set(['backup', 'other']);
const validate = (catchers: unknown) => validateCatchers(catchers, 'models.primary.catch', 'primary', (next) => known.has(next));

describe('findCatcher', () => {
  it('a family wildcard catches its own family only', () => {
    const catchers: Catcher[] = [{ errorEquals: ['timeout.*'], next: 'backup' }];
    expect(findCatcher(catchers, 'timeout.idle')).toEqual({ catcher: catchers[0], index: 0 });
    expect(findCatcher(catchers, 'upstream.error')).toBeUndefined();
    expect(findCatcher(catchers, 'rate.limited')).toBeUndefined();
  });

  it('the first matching catcher in array order wins', () => {
    const catchers: Catcher[] = [
      { errorEquals: ['rate.limited'], next: 'other' },
      { errorEquals: ['timeout.*'], next: 'other' },
      { errorEquals: ['all'], next: 'backup' },
    ];
    expect(findCatcher(catchers, 'timeout.total')?.index).toBe(1);
    expect(findCatcher(catchers, 'upstream.error')?.index).toBe(2);
    // fmguard's own refusals escape even 'all' (vector S8).
    expect(findCatcher(catchers, 'limit.steps')).toBeUndefined();
  });

  it('a model without catchers catches nothing', () => {
    expect(findCatcher(undefined, 'upstream.error')).toBeUndefined();
    expect(findCatcher([], 'upstream.error')).toBeUndefined();
  });
});

describe('validateCatchers', () => {
  it('a valid list has no problems', () => {
    expect(
      validate([
        { errorEquals: ['timeout.*', 'rate.limited'], next: 'other' },
        { errorEquals: ['all'], next: 'backup' },
      ]),
    ).toEqual([]);
  });

  it('something other than a list is one problem at the path', () => {
    expect(validate({ errorEquals: ['all'], next: 'backup' })).toEqual([{ path: 'models.primary.catch', message: 'expected a list of catchers' }]);
    expect(validate('backup')).toEqual([{ path: 'models.primary.catch', message: 'expected a list of catchers' }]);
  });

  it('an entry that is not an object (a string, null, a list) is one problem at its index', () => {
    const message = 'expected an object with errorEquals and next';
    expect(validate(['backup', null, [{ errorEquals: ['all'], next: 'backup' }]])).toEqual([
      { path: 'models.primary.catch[0]', message },
      { path: 'models.primary.catch[1]', message },
      { path: 'models.primary.catch[2]', message },
    ]);
  });

  it('names an unknown field', () => {
    expect(validate([{ errorEquals: ['all'], next: 'backup', resultPath: '$.error' }])).toEqual([
      { path: 'models.primary.catch[0].resultPath', message: 'unknown field (expected errorEquals, next)' },
    ]);
  });

  it('a missing, empty or non-string next is one problem', () => {
    const message = 'expected the name of the fallback';
    for (const next of [undefined, '', 7]) {
      const catcher = next === undefined ? { errorEquals: ['all'] } : { errorEquals: ['all'], next };
      expect(validate([catcher]), String(next)).toEqual([{ path: 'models.primary.catch[0].next', message }]);
    }
  });

  it('a catcher cannot route its owner to itself, nor to an unknown name', () => {
    expect(validate([{ errorEquals: ['all'], next: 'primary' }])).toEqual([
      { path: 'models.primary.catch[0].next', message: 'a catcher cannot route "primary" to itself' },
    ]);
    expect(validate([{ errorEquals: ['all'], next: 'nowhere' }])).toEqual([{ path: 'models.primary.catch[0].next', message: 'unknown "nowhere"' }]);
  });

  it('refuses a family with no catchable code, and fmguard’s own refusals, listing what is catchable', () => {
    expect(CATCHABLE_CODES.join(', ')).toBe(CATCHABLE_LIST);
    expect(validate([{ errorEquals: ['timeout.*', 'loop.*', 'limit.steps'], next: 'backup' }])).toEqual([
      { path: 'models.primary.catch[0].errorEquals[1]', message: `'loop.*' matches no catchable code (catchable: ${CATCHABLE_LIST})` },
      {
        path: 'models.primary.catch[0].errorEquals[2]',
        message: `'limit.steps' is fmguard's own refusal and is never caught (catchable: ${CATCHABLE_LIST})`,
      },
    ]);
  });
});

describe('errorEquals entries (shared by retriers and catchers)', () => {
  it('an entry that is not a string is a problem at its index', () => {
    const found: { path: string; message: string }[] = [];
    const rules = { owner: 'catcher', family: () => undefined, code: () => undefined };
    checkErrorEquals(['upstream.error', 5, null], 'catch[0]', true, rules, (path, message) => found.push({ path, message }));
    expect(found).toEqual([
      { path: 'catch[0].errorEquals[1]', message: 'expected a string' },
      { path: 'catch[0].errorEquals[2]', message: 'expected a string' },
    ]);
  });

  it('the family of a code is what comes before its first dot; a name without one is its own family', () => {
    expect(familyOf('timeout.first_token')).toBe('timeout');
    expect(familyOf('a.b.c')).toBe('a');
    expect(familyOf('timeout')).toBe('timeout');
  });
});

describe('findCatchCycle', () => {
  const graph = (links: Record<string, string[]>) => {
    const calls = new Map<string, number>();
    const edges = (n: string) => {
      calls.set(n, (calls.get(n) ?? 0) + 1);
      return links[n] ?? [];
    };
    return { edges, calls };
  };

  it('reports the cycle alone, not the path that led to it', () => {
    const { edges } = graph({ a: ['b'], b: ['c'], c: ['b'] });
    expect(findCatchCycle(['a', 'b', 'c'], edges)).toEqual(['b', 'c', 'b']);
  });

  it('finds a cycle that starts after nodes without one', () => {
    const { edges } = graph({ a: [], b: ['c'], c: ['b'] });
    expect(findCatchCycle(['a', 'b', 'c'], edges)).toEqual(['b', 'c', 'b']);
  });

  it('finds none in a graph where two paths meet, following each node’s fallbacks once', () => {
    const { edges, calls } = graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] });
    expect(findCatchCycle(['a', 'b', 'c', 'd'], edges)).toBeUndefined();
    expect(Object.fromEntries(calls)).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  });
});
