import type { AlarmState } from './types.ts';

/**
 * Composite alarm rules, CloudWatch syntax: `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`, `TRUE`,
 * `FALSE`, `AND`, `OR`, `NOT`, parentheses; names quoted ("..." or '...') or bare. Precedence
 * NOT > AND > OR. Keywords are upper case, as in CloudWatch.
 */
export type Rule =
  | { kind: 'const'; value: boolean }
  | { kind: 'state'; state: AlarmState; alarm: string }
  | { kind: 'not'; rule: Rule }
  | { kind: 'and' | 'or'; rules: Rule[] };

export class RuleParseError extends Error {
  readonly position: number;
  readonly rule: string;

  constructor(message: string, rule: string, position: number) {
    super(`${message} at position ${position + 1} of rule ${JSON.stringify(rule)}`);
    this.name = 'RuleParseError';
    this.position = position;
    this.rule = rule;
  }
}

type Token = { type: 'lparen' | 'rparen' | 'end'; pos: number } | { type: 'word'; text: string; pos: number } | { type: 'quoted'; text: string; pos: number };

const STATE_WORDS: ReadonlySet<string> = new Set(['ALARM', 'OK', 'INSUFFICIENT_DATA']);
const KEYWORDS: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'TRUE', 'FALSE', ...STATE_WORDS]);

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const ch = rule[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch === '(' ? 'lparen' : 'rparen', pos: i });
      i++;
    } else if (ch === '"' || ch === "'") {
      const close = rule.indexOf(ch, i + 1);
      if (close < 0) throw new RuleParseError(`unterminated quoted name`, rule, i);
      tokens.push({ type: 'quoted', text: rule.slice(i + 1, close), pos: i });
      i = close + 1;
    } else {
      const start = i;
      while (i < rule.length && !/[\s()"']/.test(rule[i])) i++;
      tokens.push({ type: 'word', text: rule.slice(start, i), pos: start });
    }
  }
  tokens.push({ type: 'end', pos: rule.length });
  return tokens;
}

/** Parse a rule; throws RuleParseError with the position of the problem. */
export function parseRule(rule: string): Rule {
  const tokens = tokenize(rule);
  let at = 0;
  const peek = () => tokens[at];
  const fail = (message: string, token: Token = peek()): never => {
    throw new RuleParseError(message, rule, token.pos);
  };
  const describe = (t: Token): string => {
    switch (t.type) {
      case 'end':
        return 'end of rule';
      case 'lparen':
        return "'('";
      case 'rparen':
        return "')'";
      default:
        return `'${t.text}'`;
    }
  };
  const isWord = (t: Token, text: string) => t.type === 'word' && t.text === text;

  const parseOr = (): Rule => {
    const rules = [parseAnd()];
    while (isWord(peek(), 'OR')) {
      at++;
      rules.push(parseAnd());
    }
    return rules.length === 1 ? rules[0] : { kind: 'or', rules };
  };
  const parseAnd = (): Rule => {
    const rules = [parseNot()];
    while (isWord(peek(), 'AND')) {
      at++;
      rules.push(parseNot());
    }
    return rules.length === 1 ? rules[0] : { kind: 'and', rules };
  };
  const parseNot = (): Rule => {
    if (isWord(peek(), 'NOT')) {
      at++;
      return { kind: 'not', rule: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Rule => {
    const t = peek();
    if (t.type === 'lparen') {
      at++;
      const inner = parseOr();
      if (peek().type !== 'rparen') fail(`expected ')' but found ${describe(peek())}`);
      at++;
      return inner;
    }
    if (t.type === 'word' && (t.text === 'TRUE' || t.text === 'FALSE')) {
      at++;
      return { kind: 'const', value: t.text === 'TRUE' };
    }
    if (t.type === 'word' && STATE_WORDS.has(t.text)) {
      at++;
      if (peek().type !== 'lparen') fail(`expected '(' after ${t.text}`);
      at++;
      const name = peek();
      if (name.type === 'quoted') {
        if (name.text.length === 0) fail('empty alarm name', name);
      } else if (name.type !== 'word') {
        fail(`expected an alarm name but found ${describe(name)}`, name);
      }
      at++;
      if (peek().type !== 'rparen') fail(`expected ')' after the alarm name but found ${describe(peek())}`);
      at++;
      return { kind: 'state', state: t.text as AlarmState, alarm: (name as { text: string }).text };
    }
    if (t.type === 'word' && t.text !== t.text.toUpperCase() && KEYWORDS.has(t.text.toUpperCase())) {
      fail(`unexpected '${t.text}': keywords are upper case (${t.text.toUpperCase()})`);
    }
    return fail(`expected ALARM(name), OK(name), INSUFFICIENT_DATA(name), TRUE, FALSE, NOT or '(' but found ${describe(t)}`);
  };

  const result = parseOr();
  const rest = peek();
  if (rest.type !== 'end') {
    if (rest.type === 'word' && (rest.text === 'and' || rest.text === 'or'))
      fail(`unexpected '${rest.text}': operators are upper case (${rest.text.toUpperCase()})`);
    fail(`expected AND, OR or end of rule but found ${describe(rest)}`);
  }
  return result;
}

/** Names of the alarms a rule refers to. */
export function ruleAlarms(rule: Rule, into: Set<string> = new Set()): Set<string> {
  switch (rule.kind) {
    case 'state':
      into.add(rule.alarm);
      break;
    case 'not':
      ruleAlarms(rule.rule, into);
      break;
    case 'and':
    case 'or':
      for (const r of rule.rules) ruleAlarms(r, into);
      break;
    case 'const':
      break;
  }
  return into;
}

/** Truth of a rule given each alarm's state; an unknown alarm counts as INSUFFICIENT_DATA. */
export function evaluateRule(rule: Rule, stateOf: (alarm: string) => AlarmState | undefined): boolean {
  switch (rule.kind) {
    case 'const':
      return rule.value;
    case 'state':
      return (stateOf(rule.alarm) ?? 'INSUFFICIENT_DATA') === rule.state;
    case 'not':
      return !evaluateRule(rule.rule, stateOf);
    case 'and':
      return rule.rules.every((r) => evaluateRule(r, stateOf));
    case 'or':
      return rule.rules.some((r) => evaluateRule(r, stateOf));
  }
}

/** A composite alarm's state: ALARM when the rule is TRUE, else OK. */
export function compositeState(rule: Rule, stateOf: (alarm: string) => AlarmState | undefined): AlarmState {
  return evaluateRule(rule, stateOf) ? 'ALARM' : 'OK';
}
