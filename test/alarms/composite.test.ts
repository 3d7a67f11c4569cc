import { describe, expect, it } from 'vitest';
import { compositeState, evaluateRule, parseRule, RuleParseError, ruleAlarms } from '../../src/alarms/composite.ts';
import type { AlarmState } from '../../src/alarms/types.ts';

const states = (map: Record<string, AlarmState>) => (name: string) => map[name];

describe('composite rules', () => {
  describe('C10: ALARM(A) AND NOT ALARM(B)', () => {
    const rule = parseRule('ALARM(A) AND NOT ALARM(B)');
    const cases: Array<[Record<string, AlarmState>, AlarmState]> = [
      [{ A: 'ALARM', B: 'OK' }, 'ALARM'],
      [{ A: 'ALARM', B: 'ALARM' }, 'OK'],
      [{ A: 'INSUFFICIENT_DATA', B: 'OK' }, 'OK'],
    ];
    for (const [input, expected] of cases) {
      it(`A=${input.A}, B=${input.B} → ${expected}`, () => {
        expect(compositeState(rule, states(input))).toBe(expected);
      });
    }
  });

  it('parses states, constants, quotes and precedence (NOT > AND > OR)', () => {
    const rule = parseRule(`OK("web errors") OR ALARM('db') AND NOT INSUFFICIENT_DATA(cache-1)`);
    expect(rule).toEqual({
      kind: 'or',
      rules: [
        { kind: 'state', state: 'OK', alarm: 'web errors' },
        {
          kind: 'and',
          rules: [
            { kind: 'state', state: 'ALARM', alarm: 'db' },
            { kind: 'not', rule: { kind: 'state', state: 'INSUFFICIENT_DATA', alarm: 'cache-1' } },
          ],
        },
      ],
    });
    expect([...ruleAlarms(rule)]).toEqual(['web errors', 'db', 'cache-1']);
    expect(evaluateRule(parseRule('TRUE AND (FALSE OR TRUE)'), () => undefined)).toBe(true);
    expect(evaluateRule(parseRule('NOT NOT FALSE'), () => undefined)).toBe(false);
  });

  it('an unknown alarm counts as INSUFFICIENT_DATA', () => {
    expect(evaluateRule(parseRule('INSUFFICIENT_DATA(nope)'), () => undefined)).toBe(true);
  });

  const bad: Array<[string, RegExp]> = [
    ['', /expected ALARM\(name\).*end of rule/],
    ['ALARM(a', /expected '\)' after the alarm name but found end of rule at position 8/],
    ['ALARM()', /expected an alarm name but found '\)'/],
    ['ALARM("")', /empty alarm name/],
    ['ALARM("a) AND OK(b)', /unterminated quoted name at position 7/],
    ['ALARM(a) and ALARM(b)', /operators are upper case \(AND\)/],
    ['alarm(a)', /keywords are upper case \(ALARM\)/],
    ['ALARM(a) ALARM(b)', /expected AND, OR or end of rule but found 'ALARM'/],
    ['(ALARM(a)', /expected '\)' but found end of rule/],
    ['ALARM a', /expected '\(' after ALARM/],
    ['foo', /expected ALARM\(name\), OK\(name\).* but found 'foo' at position 1/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)} with a clear error`, () => {
      let error: unknown;
      try {
        parseRule(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuleParseError);
      expect((error as Error).message).toMatch(message);
    });
  }
});
