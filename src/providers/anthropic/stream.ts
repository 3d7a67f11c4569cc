import type { ChatChunk, FinishReason } from '../../core/chat.ts';
import type { AnthropicUsage } from './types.ts';
import { toChatUsage, toFinishReason } from './translate.ts';

type Delta = ChatChunk['choices'][number]['delta'];

interface ToolBlock {
  /** The OpenAI tool_calls index: 0, 1, … in the order the tool_use blocks started. */
  index: number;
  sentArguments: boolean;
}

/**
 * Anthropic stream events to OpenAI chunks, one event at a time (pure; the provider feeds it parsed
 * SSE data). Text deltas become content deltas; each tool_use block becomes a tool call with a stable
 * index (its order among the tool blocks) whose id and name come first and whose `input_json_delta`
 * pieces follow as argument deltas; `message_delta` gives the finish reason and `message_stop` a
 * final usage chunk with empty choices, as OpenAI's `include_usage` does. `error` events are the
 * caller's to handle; unknown events and blocks (ping, thinking…) are skipped.
 */
export class AnthropicStreamTranslator {
  private id = '';
  private model: string;
  private readonly created: number;
  private readonly usage: AnthropicUsage = {};
  private readonly tools = new Map<number, ToolBlock>();
  private finishReason: FinishReason | null = null;
  /** message_stop was seen: the stream is complete. */
  done = false;

  constructor(created: number, model: string) {
    this.created = created;
    this.model = model;
  }

  /** The chunk for one event, if it makes one. */
  next(event: Record<string, unknown>): ChatChunk | undefined {
    switch (event.type) {
      case 'message_start': {
        const message = (event.message ?? {}) as { id?: unknown; model?: unknown; usage?: AnthropicUsage };
        if (typeof message.id === 'string') this.id = message.id;
        if (typeof message.model === 'string') this.model = message.model;
        this.addUsage(message.usage);
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const block = (event.content_block ?? {}) as { type?: unknown; id?: unknown; name?: unknown; text?: unknown };
        if (block.type === 'tool_use') {
          const tool: ToolBlock = { index: this.tools.size, sentArguments: false };
          this.tools.set(Number(event.index), tool);
          return this.chunk({
            tool_calls: [{ index: tool.index, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } }],
          });
        }
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return this.chunk({ content: block.text });
        return undefined;
      }
      case 'content_block_delta': {
        const delta = (event.delta ?? {}) as { type?: unknown; text?: unknown; partial_json?: unknown };
        if (delta.type === 'text_delta' && typeof delta.text === 'string') return this.chunk({ content: delta.text });
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          const tool = this.tools.get(Number(event.index));
          if (!tool) return undefined;
          tool.sentArguments = true;
          return this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: delta.partial_json } }] });
        }
        return undefined;
      }
      case 'content_block_stop': {
        // A tool without parameters streams no JSON; OpenAI clients expect "{}" to parse.
        const tool = this.tools.get(Number(event.index));
        if (!tool || tool.sentArguments) return undefined;
        tool.sentArguments = true;
        return this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] });
      }
      case 'message_delta': {
        const delta = (event.delta ?? {}) as { stop_reason?: string | null };
        this.addUsage(event.usage as AnthropicUsage | undefined);
        this.finishReason = toFinishReason(delta.stop_reason);
        return this.chunk({}, this.finishReason);
      }
      case 'message_stop': {
        this.done = true;
        return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: toChatUsage(this.usage) };
      }
      default:
        return undefined;
    }
  }

  /** Usage fields are cumulative: a later event's value replaces the earlier one. */
  private addUsage(usage: AnthropicUsage | undefined): void {
    if (!usage) return;
    for (const key of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
      const value = usage[key];
      if (typeof value === 'number') this.usage[key] = value;
    }
  }

  private chunk(delta: Delta, finishReason: FinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
  }
}
