import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/core/chat.ts';
import { inputTokenUpperBound } from '../../../src/core/token-estimate.ts';
import { createSimModel } from '../../../src/providers/simulated/sim-model.ts';
import { estimatePromptTokens, textTokens } from '../../../src/providers/simulated/tokens.ts';
import { ask, searchTool, signal } from './helpers.ts';

const samples = ['', 'a', 'hello world', 'héllo wörld ünïcode', '日本語のテキストです', '🙂🙃🙂🙃 emoji', 'x'.repeat(1001)];

describe('prompt token estimate', () => {
  it('is ceil(chars / 4) + 4 per message, + 3 per request', () => {
    expect(estimatePromptTokens([{ role: 'user', content: 'abcdefgh' }])).toBe(3 + 2 + 4);
    expect(estimatePromptTokens([{ role: 'user', content: 'abcdefghi' }])).toBe(3 + 3 + 4);
    expect(textTokens('abcde')).toBe(2);
  });

  it('never exceeds UTF-8 bytes of the message text + 8 per message', () => {
    for (const a of samples) {
      for (const b of samples) {
        const messages: ChatMessage[] = [
          { role: 'system', content: a },
          {
            role: 'user',
            content: [
              { type: 'text', text: b },
              { type: 'text', text: a },
            ],
          },
        ];
        const bound = messages.reduce((sum, m) => sum + Buffer.byteLength(a + (m.role === 'user' ? b : ''), 'utf8') + 8, 0);
        expect(estimatePromptTokens(messages)).toBeLessThanOrEqual(bound);
      }
    }
  });

  it("never exceeds fmguard's reservation bound, tool calls and tools included", async () => {
    const sim = createSimModel({ scenario: 'tool_loop' });
    for (const text of samples) {
      const req = ask(text, { tools: [searchTool] });
      const reply = await sim.complete(req, { signal: signal() });
      const messages: ChatMessage[] = [...req.messages, { role: 'assistant', content: null, tool_calls: reply.choices[0].message.tool_calls }];
      messages.push({ role: 'tool', tool_call_id: 'call_1', content: text });
      const next = { ...req, messages };
      const usage = (await sim.complete(next, { signal: signal() })).usage!;
      expect(usage.prompt_tokens).toBe(estimatePromptTokens(messages, next.tools));
      expect(usage.prompt_tokens).toBeLessThanOrEqual(inputTokenUpperBound(next));
    }
  });
});
