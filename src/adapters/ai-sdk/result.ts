import type { ChatChunk, ChatResponse, ChatToolCall, FinishReason, Usage } from '../../index.ts';
import { chatChunk, chatResponse, emptyChunk } from '../shared/chat-shapes.ts';
import { chatFunctionName, type ToolNaming } from '../shared/tool-naming.ts';
import type { FinishReasonV3, GenerateResult, ModelUsage, StreamPart } from './types.ts';

/** The usage the model reported, as fmguard meters it; undefined when it reported none. */
export function usageOf(usage: ModelUsage | undefined): Usage | undefined {
  const input = usage?.inputTokens.total;
  const output = usage?.outputTokens.total;
  if (input === undefined || output === undefined) return undefined;
  const cached = usage?.inputTokens.cacheRead;
  return { inputTokens: input, outputTokens: output, ...(cached !== undefined ? { cachedInputTokens: cached } : {}) };
}

export function finishOf(reason: FinishReasonV3): FinishReason {
  switch (reason.unified) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** A proposed call as the chat shape carries it; provider-executed calls have already run and are skipped. */
export function toChatToolCall(
  part: { toolCallId: string; toolName: string; input: string; providerExecuted?: boolean },
  naming: ToolNaming,
): ChatToolCall | undefined {
  if (part.providerExecuted) return undefined;
  return { id: part.toolCallId, type: 'function', function: { name: chatFunctionName(part.toolName, naming), arguments: part.input } };
}

/** A generate result as the chat response the runtime settles and judges. */
export function toChatResponse(result: GenerateResult, model: string, naming: ToolNaming): ChatResponse {
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const part of result.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'tool-call') {
      const call = toChatToolCall(part, naming);
      if (call) toolCalls.push(call);
    }
  }
  return chatResponse(model, text, toolCalls, finishOf(result.finishReason), usageOf(result.usage));
}

/** The AI SDK stream parts a chat chunk stands for; the adapter hands these, not the chunk, to the SDK. */
const PARTS = Symbol.for('fmguard.aiSdkParts');

type CarryingChunk = ChatChunk & { [PARTS]?: StreamPart[] };

export function partsOf(chunk: ChatChunk): StreamPart[] {
  return (chunk as CarryingChunk)[PARTS] ?? [];
}

function carrying(chunk: ChatChunk, parts: StreamPart[]): ChatChunk {
  (chunk as CarryingChunk)[PARTS] = parts;
  return chunk;
}

/**
 * Turns AI SDK stream parts into chat chunks the runtime meters (text, reasoning and tool-input deltas
 * count as output; the finish part carries the usage). Parts that are not output (stream start,
 * metadata, block boundaries) ride on the next chunk, so the first chunk the runtime sees — and times
 * as the first token — is real output.
 */
export class PartsToChunks {
  private pending: StreamPart[] = [];
  private readonly toolIndex = new Map<string, number>();

  constructor(
    private readonly model: string,
    private readonly naming: ToolNaming,
  ) {}

  /** The chunk for this part, or undefined when it waits for the next one. */
  add(part: StreamPart): ChatChunk | undefined {
    const chunk = this.chunkFor(part);
    if (!chunk) {
      this.pending.push(part);
      return undefined;
    }
    const parts = this.pending;
    parts.push(part);
    this.pending = [];
    return carrying(chunk, parts);
  }

  /** Whatever is still waiting when the stream ends. */
  flush(): ChatChunk | undefined {
    if (this.pending.length === 0) return undefined;
    const parts = this.pending;
    this.pending = [];
    return carrying(emptyChunk(this.model), parts);
  }

  private chunkFor(part: StreamPart): ChatChunk | undefined {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta':
        // Reasoning is output the provider bills; it counts toward the stream's reservation too.
        return part.delta.length > 0 ? chatChunk(this.model, { content: part.delta }) : undefined;
      case 'tool-input-start': {
        const index = this.toolIndex.size;
        this.toolIndex.set(part.id, index);
        return chatChunk(this.model, {
          tool_calls: [{ index, id: part.id, type: 'function', function: { name: chatFunctionName(part.toolName, this.naming), arguments: '' } }],
        });
      }
      case 'tool-input-delta': {
        const index = this.toolIndex.get(part.id) ?? 0;
        return chatChunk(this.model, { tool_calls: [{ index, function: { arguments: part.delta } }] });
      }
      case 'tool-call': {
        if (this.toolIndex.has(part.toolCallId) || part.providerExecuted) return undefined;
        // A call that arrived whole, without input deltas.
        const index = this.toolIndex.size;
        this.toolIndex.set(part.toolCallId, index);
        return chatChunk(this.model, {
          tool_calls: [
            { index, id: part.toolCallId, type: 'function', function: { name: chatFunctionName(part.toolName, this.naming), arguments: part.input } },
          ],
        });
      }
      case 'finish':
        return chatChunk(this.model, {}, finishOf(part.finishReason), usageOf(part.usage));
      default:
        return undefined;
    }
  }
}
