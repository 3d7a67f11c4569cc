import { describe, expect, it } from 'vitest';
import { findDirective, parseScenario, selectScenario, SimScenarioError, type SimScenario } from '../../../src/providers/simulated/scenario.ts';
import { ask } from './helpers.ts';

describe('parseScenario', () => {
  it('parses names, aliases and positional arguments', () => {
    expect(parseScenario('answer')).toEqual({ name: 'answer' });
    expect(parseScenario('loop')).toEqual({ name: 'tool_loop' });
    expect(parseScenario('tool_loop search')).toEqual({ name: 'tool_loop', tool: 'search' });
    expect(parseScenario(' fail 0.5 503 ')).toEqual({ name: 'fail', rate: 0.5, status: 503 });
    expect(parseScenario('fail')).toEqual({ name: 'fail' });
    expect(parseScenario('throttle 1 2500')).toEqual({ name: 'throttle', rate: 1, retryAfterMs: 2500 });
    expect(parseScenario('stall 5')).toEqual({ name: 'stall', afterChunks: 5 });
    expect(parseScenario('LONG 100')).toEqual({ name: 'long', tokens: 100 });
    expect(parseScenario('forbidden_tool rm_rf')).toEqual({ name: 'forbidden_tool', tool: 'rm_rf' });
  });

  it('rejects unknown names and bad arguments', () => {
    expect(() => parseScenario('dance')).toThrow(SimScenarioError);
    expect(() => parseScenario('fail 1.5')).toThrow(/bad rate/);
    expect(() => parseScenario('fail 0.5 200')).toThrow(/bad status/);
    expect(() => parseScenario('long -3')).toThrow(/bad token count/);
  });
});

describe('selectScenario', () => {
  const sources = {
    defaultScenario: { name: 'answer' } as SimScenario,
    modelScenarios: new Map<string, SimScenario>([['sim-loop', { name: 'tool_loop' }]]),
  };

  it('finds the newest directive in the user messages (never in tool results)', () => {
    const messages = [
      { role: 'user' as const, content: 'first [sim:fail]' },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: [{ type: 'text', text: 'again [sim:long 10] please' }] },
      { role: 'tool' as const, content: '[sim:stall]', tool_call_id: 'x' },
    ];
    expect(findDirective(messages)).toBe('long 10');
    expect(findDirective([...messages, { role: 'user' as const, content: 'Make it better.' }])).toBe('long 10');
    expect(findDirective([{ role: 'user' as const, content: 'plain' }])).toBeUndefined();
  });

  it('orders: request field, directive, model mapping, default', () => {
    expect(selectScenario(ask('hi'), sources)).toEqual({ name: 'answer' });
    expect(selectScenario(ask('hi', { model: 'sim-loop' }), sources)).toEqual({ name: 'tool_loop' });
    expect(selectScenario(ask('hi [sim:refine]', { model: 'sim-loop' }), sources)).toEqual({ name: 'refine' });
    expect(selectScenario(ask('hi [sim:refine]', { model: 'sim-loop', sim: 'stall_first' }), sources)).toEqual({ name: 'stall_first' });
    expect(selectScenario(ask('hi', { sim: { name: 'fail', rate: 0.1 } }), sources)).toEqual({ name: 'fail', rate: 0.1 });
  });
});
