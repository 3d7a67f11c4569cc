import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

/** How an agent loop ended: fmguard's stop code (or null), with the counters the gateway reported. */
export interface Stop {
  code: string | null;
  message: string;
  /** `x-fmguard-run-steps` / `-cost-usd` of the last response, when the gateway sent them. */
  steps?: number;
  costUsd?: number;
}

// Tools of the `demo` server, named `server__tool` as the gateway exposes them (policies see `demo.search`).
export const searchTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'demo__search', description: 'Search the knowledge base', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
};

export const deleteFileTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'demo__delete_file', description: 'Delete a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
};

function counters(headers: Headers | undefined): Pick<Stop, 'steps' | 'costUsd'> {
  const steps = headers?.get('x-fmguard-run-steps');
  const cost = headers?.get('x-fmguard-run-cost-usd');
  return { ...(steps && { steps: Number(steps) }), ...(cost && { costUsd: Number(cost) }) };
}

/** What an error from the official client says about the stop. */
export function stopOf(error: unknown): Stop {
  if (error instanceof OpenAI.APIError) {
    const code = error.code ?? error.headers?.get('x-fmguard-code') ?? null;
    const body = error.error as { message?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : error.message;
    return { code: code ?? `http ${error.status ?? 'error'}`, message, ...counters(error.headers) };
  }
  if (error instanceof Error) return { code: 'client.error', message: error.message };
  throw error;
}

/** An ordinary agent loop with no stopping condition of its own: ask, run the tools asked for, repeat. */
export async function agentLoop(client: OpenAI, model: string, prompt: string, tools?: ChatCompletionTool[], maxTurns = 500): Promise<Stop> {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: prompt }];
  try {
    for (let turn = 0; turn < maxTurns; turn++) {
      const completion = await client.chat.completions.create({ model, messages, ...(tools && { tools }) });
      const message = completion.choices[0]!.message;
      messages.push({ role: 'assistant', content: message.content ?? null, ...(message.tool_calls?.length && { tool_calls: message.tool_calls }) });
      if (!message.tool_calls?.length) {
        messages.push({ role: 'user', content: 'Good start. Make it better.' });
        continue;
      }
      for (const call of message.tool_calls) {
        const args = call.type === 'function' ? call.function.arguments : '';
        messages.push({ role: 'tool', tool_call_id: call.id, content: `3 documents match ${args}` });
      }
    }
  } catch (error) {
    return stopOf(error);
  }
  return { code: null, message: `the loop ran ${maxTurns} turns without being stopped` };
}

/** Read a whole stream, as a chat UI would; `onChunk` sees each chunk's index. */
export async function streamAnswer(client: OpenAI, model: string, prompt: string, onChunk?: (n: number) => void): Promise<Stop> {
  try {
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], stream: true });
    let n = 0;
    for await (const _chunk of stream) onChunk?.(++n);
    return { code: null, message: `the stream finished after ${n} chunks` };
  } catch (error) {
    return stopOf(error);
  }
}
