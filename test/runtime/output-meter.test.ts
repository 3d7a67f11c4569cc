/**
 * OutputMeter (src/runtime/output-meter.ts) on its own: what it counts from streamed chunks (content,
 * tool-call names and arguments, UTF-8 bytes, chunks that carried output) and its estimate. Exact values.
 */
import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../src/core/chat.ts';
import { OutputMeter } from '../../src/runtime/output-meter.ts';

const chunk = (...deltas: Array<Record<string, unknown> | undefined>): ChatChunk =>
  ({ choices: deltas.map((delta, index) => (delta === undefined ? { index } : { index, delta })) }) as unknown as ChatChunk;

describe('OutputMeter', () => {
  it('starts empty', () => {
    const m = new OutputMeter();
    expect([m.chunks, m.bytes, m.content, m.toolArgs, m.estimate]).toEqual([0, 0, '', '', 0]);
  });
  it('counts content in UTF-8 bytes and chunks that carried some', () => {
    const m = new OutputMeter();
    m.add(chunk({ content: 'héllo' }));
    m.add(chunk({ content: '' }));
    m.add(chunk({ role: 'assistant' }));
    m.add(chunk(undefined));
    m.add({} as ChatChunk);
    expect([m.chunks, m.bytes, m.content, m.toolArgs]).toEqual([1, 6, 'héllo', '']);
    expect(m.estimate).toBe(2);
  });
  it('counts tool-call names and arguments, by index', () => {
    const m = new OutputMeter();
    m.add(
      chunk({
        tool_calls: [
          { index: 0, function: { name: 'fé' } },
          { index: 1, function: { arguments: '{"a":1}' } },
        ],
      }),
    );
    m.add(chunk({ tool_calls: [{ index: 2 }] }));
    expect([m.chunks, m.bytes, m.toolArgs, m.content]).toEqual([2, 10, '0:fé1:{"a":1}2:', '']);
    expect(m.estimate).toBe(3);
  });
  it('counts a choice once when it has both content and tool calls; each choice apart', () => {
    const m = new OutputMeter();
    m.add(chunk({ content: 'ab', tool_calls: [{ index: 0, function: { name: 'f', arguments: 'x' } }] }, { content: 'c' }));
    expect([m.chunks, m.bytes, m.content, m.toolArgs]).toEqual([2, 5, 'abc', '0:fx']);
  });
  it('estimates the larger of chunks seen and bytes/4 rounded up', () => {
    const many = new OutputMeter();
    for (let i = 0; i < 5; i++) many.add(chunk({ content: 'a' }));
    expect([many.chunks, many.bytes, many.estimate]).toEqual([5, 5, 5]);
    const big = new OutputMeter();
    big.add(chunk({ content: 'abcdefghi' }));
    expect([big.chunks, big.bytes, big.estimate]).toEqual([1, 9, 3]);
  });
});
