import type { ChatRequest, ChatResponse } from './helpers.ts';

/**
 * Bedrock InvokeModel bodies for Anthropic Claude (`anthropic_version: bedrock-2023-05-31`), as the
 * exported agent loop writes them, read back into fmguard's chat shapes and answered in the same
 * format: what a Step Functions InvokeModel task sees from Bedrock, with the simulated model behind it.
 */
type Block = { type: string; text?: string; id?: string; name?: string; input?: unknown; tool_use_id?: string; content?: string };

export function anthropicBodyToChat(body: Record<string, any>, modelId: string): ChatRequest {
  const messages: ChatRequest['messages'] = [];
  if (typeof body.system === 'string') messages.push({ role: 'system', content: body.system });
  for (const turn of body.messages as Array<{ role: 'user' | 'assistant'; content: Block[] | string }>) {
    const blocks: Block[] = typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : turn.content;
    if (turn.role === 'user') {
      for (const b of blocks) {
        if (b.type === 'text') messages.push({ role: 'user', content: b.text! });
        else if (b.type === 'tool_result') messages.push({ role: 'tool', tool_call_id: b.tool_use_id!, content: b.content ?? '' });
        else throw new Error(`unexpected user block ${b.type}`);
      }
    } else {
      const text = blocks
        .filter((b) => b.type === 'text')
        .map((b) => b.text)
        .join('');
      const calls = blocks
        .filter((b) => b.type === 'tool_use')
        .map((b) => ({ id: b.id!, type: 'function' as const, function: { name: b.name!, arguments: JSON.stringify(b.input ?? {}) } }));
      messages.push({ role: 'assistant', content: text === '' ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
    }
  }
  const request: ChatRequest = { model: modelId, messages, max_tokens: body.max_tokens };
  if (Array.isArray(body.tools)) {
    request.tools = body.tools.map((t: { name: string; description?: string; input_schema: Record<string, unknown> }) => ({
      type: 'function' as const,
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema },
    }));
  }
  return request;
}

/** Bedrock hands tool input over as an object; a simulated call cut by max_tokens may not parse. */
function lenient(text: string): unknown {
  try {
    const value = JSON.parse(text || '{}') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

const STOP: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

export function chatToAnthropicResponse(response: ChatResponse): Record<string, unknown> {
  const message = response.choices[0]!.message;
  const content: Block[] = [];
  if (message.content) content.push({ type: 'text', text: message.content });
  for (const call of message.tool_calls ?? [])
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: lenient(call.function.arguments) });
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: STOP[response.choices[0]!.finish_reason] ?? 'end_turn',
    usage: { input_tokens: response.usage!.prompt_tokens, output_tokens: response.usage!.completion_tokens },
  };
}

/** A Bedrock exception name for a simulated upstream failure's status, as Step Functions names it. */
export function bedrockErrorName(status: number): string {
  if (status === 429) return 'Bedrock.ThrottlingException';
  if (status === 400) return 'Bedrock.ValidationException';
  if (status === 503) return 'Bedrock.ServiceUnavailableException';
  return 'Bedrock.InternalServerException';
}
