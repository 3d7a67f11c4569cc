import type { ChatChunk } from '../core/chat.ts';

/** Output counted as it flows: the larger of chunks seen and a chars/4 estimate. */
export class OutputMeter {
  chunks = 0;
  bytes = 0;
  content = '';
  toolArgs = '';

  add(chunk: ChatChunk): void {
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta ?? {};
      let counted = false;
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        this.content += delta.content;
        this.bytes += Buffer.byteLength(delta.content, 'utf8');
        counted = true;
      }
      for (const call of delta.tool_calls ?? []) {
        const text = (call.function?.name ?? '') + (call.function?.arguments ?? '');
        this.toolArgs += `${call.index}:${text}`;
        this.bytes += Buffer.byteLength(text, 'utf8');
        counted = true;
      }
      if (counted) this.chunks++;
    }
  }

  get estimate(): number {
    return Math.max(this.chunks, Math.ceil(this.bytes / 4));
  }
}
