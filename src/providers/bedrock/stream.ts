import type { ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { ChatChunk, FinishReason } from '../../core/chat.ts';
import { toChatUsage, toFinishReason } from './translate.ts';

type Delta = ChatChunk['choices'][number]['delta'];

interface ToolBlock {
  /** The OpenAI tool_calls index: 0, 1, … in the order the tool-use blocks started. */
  index: number;
  sentArguments: boolean;
}

/** The exception members an event can carry instead of data (the SDK usually throws them itself). */
const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

/**
 * ConverseStream events to OpenAI chunks, one event at a time (pure). Text deltas become content
 * deltas; each tool-use block becomes a tool call with a stable index whose id and name come first and
 * whose input pieces follow as argument deltas; `messageStop` gives the finish reason and `metadata`
 * a final usage chunk with empty choices, as OpenAI's `include_usage` does.
 */
export class ConverseStreamTranslator {
  private readonly tools = new Map<number, ToolBlock>();
  private finishReason: FinishReason | null = null;
  /** `metadata` (the last event, with usage) was seen. */
  done = false;
  /** `messageStop` was seen. */
  stopped = false;

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly created: number,
  ) {}

  /** An exception carried as an event, if this is one: [member name, its message]. */
  static exceptionOf(event: ConverseStreamOutput): { name: string; message: string } | undefined {
    for (const member of EXCEPTION_MEMBERS) {
      const value = (event as unknown as Record<string, unknown>)[member] as { message?: string } | undefined;
      if (value) return { name: member.charAt(0).toUpperCase() + member.slice(1), message: value.message ?? member };
    }
    return undefined;
  }

  /** The chunk for one event, if it makes one. */
  next(event: ConverseStreamOutput): ChatChunk | undefined {
    if (event.messageStart) return this.chunk({ role: 'assistant', content: '' });
    if (event.contentBlockStart) {
      const { contentBlockIndex, start } = event.contentBlockStart;
      if (!start?.toolUse) return undefined;
      const tool: ToolBlock = { index: this.tools.size, sentArguments: false };
      this.tools.set(Number(contentBlockIndex), tool);
      return this.chunk({
        tool_calls: [
          { index: tool.index, id: String(start.toolUse.toolUseId), type: 'function', function: { name: String(start.toolUse.name), arguments: '' } },
        ],
      });
    }
    if (event.contentBlockDelta) {
      const { contentBlockIndex, delta } = event.contentBlockDelta;
      if (typeof delta?.text === 'string') return delta.text === '' ? undefined : this.chunk({ content: delta.text });
      const input = delta?.toolUse?.input;
      if (typeof input === 'string' && input !== '') {
        const tool = this.tools.get(Number(contentBlockIndex));
        if (!tool) return undefined;
        tool.sentArguments = true;
        return this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: input } }] });
      }
      // Reasoning and citation deltas have no Chat Completions place.
      return undefined;
    }
    if (event.contentBlockStop) {
      // A tool without parameters streams no input; OpenAI clients expect "{}" to parse.
      const tool = this.tools.get(Number(event.contentBlockStop.contentBlockIndex));
      if (!tool || tool.sentArguments) return undefined;
      tool.sentArguments = true;
      return this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] });
    }
    if (event.messageStop) {
      this.stopped = true;
      this.finishReason = toFinishReason(event.messageStop.stopReason);
      return this.chunk({}, this.finishReason);
    }
    if (event.metadata) {
      this.done = true;
      return {
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.created,
        model: this.model,
        choices: [],
        usage: toChatUsage(event.metadata.usage as TokenUsage | undefined),
      };
    }
    return undefined;
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
