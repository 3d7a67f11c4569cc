/**
 * `maxIdenticalToolCalls: N` allows N identical calls and stops the (N+1)th, on every path that sees
 * tool calls: tools called through the run, the conversation an agent sends, and the calls a model
 * proposes (`Run.checkToolCalls`, which the gateway uses). "Identical" means the same tool with the
 * same arguments as canonical JSON (key order does not matter); other arguments are other calls.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatToolCall } from '../../src/core/chat.ts';
import { createGuard, type GuardError } from '../../src/index.ts';
import { baseConfig } from './fixtures.ts';

async function stopOf(promise: Promise<unknown>): Promise<GuardError> {
  return promise.then(
    () => {
      throw new Error('expected a stop');
    },
    (e: GuardError) => e,
  );
}

function call(id: string, args: Record<string, unknown>, name = 'demo.search'): ChatToolCall {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}

describe.each([1, 3, 5])('maxIdenticalToolCalls: %i', (limit) => {
  it(`tools called through the run: ${limit} identical calls run, the next is refused and never runs`, async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: limit, maxToolCalls: 100 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    let executed = 0;
    const search = (args: Record<string, unknown>) => run.callTool({ tool: 'demo.search', args, execute: () => ++executed });
    // The same arguments in another key order are the same call.
    for (let i = 0; i < limit; i++) await search(i % 2 ? { q: 'budget', page: 1 } : { page: 1, q: 'budget' });
    expect(executed).toBe(limit);
    const stop = await stopOf(search({ q: 'budget', page: 1 }));
    expect(stop.code).toBe('loop.repeated_tool_call');
    expect(stop.details).toMatchObject({ limit });
    expect(executed).toBe(limit);
    await guard.close();
  });

  it(`other arguments are other calls: ${limit + 2} searches for different pages all run`, async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: limit, maxToolCalls: 100 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    let executed = 0;
    for (let page = 0; page < limit + 2; page++) await run.callTool({ tool: 'demo.search', args: { q: 'budget', page }, execute: () => ++executed });
    expect(executed).toBe(limit + 2);
    await guard.close();
  });

  it(`the conversation an agent sends: ${limit} repeats pass, ${limit + 1} are refused before the model is called`, async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: limit } }) });
    const conversation = (repeats: number): ChatMessage[] => {
      const messages: ChatMessage[] = [{ role: 'user', content: 'find the budget docs' }];
      for (let i = 0; i < repeats; i++) {
        messages.push({ role: 'assistant', content: null, tool_calls: [call(`c${i}`, { q: 'budget' })] });
        messages.push({ role: 'tool', tool_call_id: `c${i}`, content: 'nothing new' });
        // An unrelated call in between does not reset the count.
        messages.push({ role: 'assistant', content: null, tool_calls: [call(`d${i}`, { q: `other ${i}` })] });
        messages.push({ role: 'tool', tool_call_id: `d${i}`, content: 'something' });
      }
      return messages;
    };
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel({ model: 'sim-small', messages: conversation(limit) })).resolves.toBeDefined();
    const stop = await stopOf(run.callModel({ model: 'sim-small', messages: conversation(limit + 1) }));
    expect(stop.code).toBe('loop.repeated_tool_call');
    expect(stop.details).toMatchObject({ limit, used: limit + 1 });
    await guard.close();
  });

  it(`calls a model proposes: with ${limit - 1} before in the conversation one more passes; with ${limit} it is refused`, async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: limit } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const history = (n: number): ChatMessage[] =>
      Array.from({ length: n }, (_, i) => ({ role: 'assistant', content: null, tool_calls: [call(`h${i}`, { q: 'budget' })] }));
    expect(run.checkToolCalls([call('next', { q: 'budget' })], history(limit - 1))).toEqual([]);
    const violations = run.checkToolCalls([call('next', { q: 'budget' })], history(limit));
    expect(violations.map((v) => v.error.code)).toEqual(['loop.repeated_tool_call']);
    expect(violations[0]!.error.details).toMatchObject({ limit, used: limit + 1 });
    // Identical calls within one response count too; a different call beside them does not.
    const burst = [...Array.from({ length: limit + 1 }, (_, i) => call(`b${i}`, { q: 'budget' })), call('x', { q: 'other' })];
    expect(run.checkToolCalls(burst, []).map((v) => v.call.id)).toEqual([`b${limit}`]);
    await guard.close();
  });
});
