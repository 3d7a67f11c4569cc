import type { ChatMessage, ChatTool } from '../../src/core/chat.ts';
import type { Run } from '../../src/index.ts';

export const searchTool: ChatTool = {
  type: 'function',
  function: { name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
};

/**
 * A plain agent loop: ask the model, run the tools it asks for, feed the results back, until it
 * answers without tool calls. Unguarded, a looping model keeps it going forever.
 */
export async function agentLoop(run: Run, { model, prompt, maxIterations = 1000 }: { model: string; prompt: string; maxIterations?: number }) {
  const messages: ChatMessage[] = [{ role: 'user', content: prompt }];
  for (let i = 0; i < maxIterations; i++) {
    const { response } = await run.callModel({ model, messages, tools: [searchTool] });
    const message = response.choices[0]!.message;
    messages.push({ role: 'assistant', content: message.content, tool_calls: message.tool_calls });
    if (!message.tool_calls?.length) {
      // "Refine" agents ask again instead of stopping.
      messages.push({ role: 'user', content: 'Improve it.' });
      continue;
    }
    for (const call of message.tool_calls) {
      const { result } = await run.callTool({
        tool: `demo.${call.function.name}`,
        args: JSON.parse(call.function.arguments || '{}'),
        execute: async (args: unknown) => `results for ${JSON.stringify(args)}`,
      });
      messages.push({ role: 'tool', tool_call_id: call.id, content: String(result) });
    }
  }
  throw new Error('the loop ran out of iterations unguarded');
}
