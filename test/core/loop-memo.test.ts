import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/core/chat.ts';
import { mostRepeatedToolCall, ToolCallCounter } from '../../src/core/loop-detect.ts';

const assistantCall = (i: number, args: string): ChatMessage =>
  ({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'search', arguments: args } }] }) as ChatMessage;
const toolResult = (i: number): ChatMessage => ({ role: 'tool', tool_call_id: `call_${i}`, content: `result ${i}` }) as ChatMessage;

describe('loop detection over a growing conversation (ToolCallCounter)', () => {
  it('a 10,000-step run costs one tool-call key per step, at step 10 as at step 10,000', async () => {
    const counter = new ToolCallCounter();
    const messages: ChatMessage[] = [{ role: 'user', content: 'find it' } as ChatMessage];
    const perStep: number[] = [];
    for (let step = 0; step < 10_000; step++) {
      messages.push(assistantCall(step, `{"q":"query ${step % 5000}"}`), toolResult(step));
      const before = counter.keysComputed;
      const best = counter.mostRepeated(messages);
      perStep.push(counter.keysComputed - before);
      if (step === 9_999) expect(best).toMatchObject({ name: 'search', count: 2 });
    }
    expect(perStep[9]).toBe(1);
    expect(perStep[9_999]).toBe(1);
    expect(Math.max(...perStep)).toBe(1);
    expect(counter.keysComputed).toBe(10_000);
  });

  it('agrees with a full count, and counts afresh when the history is trimmed or rewritten', () => {
    const counter = new ToolCallCounter();
    const messages: ChatMessage[] = [{ role: 'user', content: 'go' } as ChatMessage];
    for (let i = 0; i < 6; i++) {
      messages.push(assistantCall(i, i % 2 === 0 ? '{"q":"a"}' : '{ "q" : "b" }'), toolResult(i));
      expect(counter.mostRepeated(messages)).toEqual(mostRepeatedToolCall(messages));
    }
    expect(counter.mostRepeated(messages)?.count).toBe(3);
    // Trimmed to a summary and the last step: counted from scratch, not from the memo.
    const trimmed = [{ role: 'user', content: 'summary of earlier steps' } as ChatMessage, ...messages.slice(-2)];
    expect(counter.mostRepeated(trimmed)).toEqual(mostRepeatedToolCall(trimmed));
    expect(counter.mostRepeated(trimmed)?.count).toBe(1);
    // Same length, last message rewritten: counted afresh too.
    const rewritten = [...messages.slice(0, -1), toolResult(99)];
    expect(counter.mostRepeated(rewritten)).toEqual(mostRepeatedToolCall(rewritten));
  });
});
