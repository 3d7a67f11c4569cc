import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatToolCall } from '../../src/core/chat.ts';
import { guardError } from '../../src/core/errors.ts';
import { StreamToolCalls } from '../../src/gateway/stream-tool-calls.ts';
import type { ToolCallCheck } from '../../src/gateway/tool-calls.ts';
import { ask, closeAll, gatewayConfig, searchTool, startGateway } from './helpers.ts';

afterEach(closeAll);

// Functions are exposed to models as server__tool; policies name them server.tool.
const demoSearch = { type: 'function' as const, function: { name: 'demo__search', parameters: { type: 'object' } } };
const deleteTool = { type: 'function' as const, function: { name: 'demo__delete_file', parameters: { type: 'object' } } };

/** The agent's policy (compiled to Cedar by the runtime): it may search, not delete. */
const noDeletes = { config: gatewayConfig({ allow: { models: ['*'], tools: ['demo.search'] } }) };
const cleanUp = { ...ask('[sim:forbidden_tool demo__delete_file] clean up'), tools: [demoSearch, deleteTool] };

describe('tool calls in responses (decision order step 11)', () => {
  it('refuses a response proposing a forbidden tool, plain and streamed', async () => {
    const gw = await startGateway(noDeletes);
    const client = gw.client();
    const request = cleanUp;
    const plain = await client.chat.completions.create(request).catch((e: unknown) => e);
    expect(plain).toMatchObject({ status: 403, code: 'policy.denied' });
    expect(gw.requests()).toBe(1);
    // The response was generated (and billed) before it was refused: the body says it was charged (issue 12 item 9).
    const body = (plain as { error: { fmguard: Record<string, unknown> } }).error.fmguard;
    expect(body).toMatchObject({ charged: true });
    expect(body.chargedUsd).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({ ...request, stream: true });
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'policy.denied' });
    // Nothing of the call reached the agent.
    expect(JSON.stringify(seen)).not.toContain('delete_file');
  });

  it('strips a forbidden call and says why when configured to', async () => {
    const gw = await startGateway({ ...noDeletes, gateway: { toolCallViolation: 'strip' } });
    const client = gw.client();
    const request = cleanUp;
    const plain = await client.chat.completions.create(request);
    expect(plain.choices[0].message.tool_calls).toBeUndefined();
    expect(plain.choices[0].finish_reason).toBe('stop');
    expect(plain.choices[0].message.content).toMatch(/fmguard removed the tool call demo__delete_file \(policy\.denied\)/);

    const streamed = await client.chat.completions.stream(request).finalChatCompletion();
    expect(streamed.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(streamed.choices[0].finish_reason).toBe('stop');
    expect(streamed.choices[0].message.content).toMatch(/fmguard removed the tool call demo__delete_file/);
  });

  it('stops an agent loop proposing the same call again (loop.repeated_tool_call), streamed', async () => {
    const gw = await startGateway();
    const client = gw.client({ headers: { 'x-fmguard-run': 'looping-agent' } });
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: '[sim:tool_loop] find it' }];
    let stopped: unknown;
    let turns = 0;
    for (; turns < 10 && !stopped; turns++) {
      try {
        const reply = await client.chat.completions.stream({ model: 'sim-small', messages, tools: [searchTool] }).finalChatCompletion();
        const message = reply.choices[0].message;
        messages.push({ role: 'assistant', content: message.content, tool_calls: message.tool_calls });
        for (const call of message.tool_calls ?? []) messages.push({ role: 'tool', tool_call_id: call.id, content: 'no results' });
      } catch (error) {
        stopped = error;
      }
    }
    expect(stopped).toMatchObject({ code: 'loop.repeated_tool_call' });
    // Three identical calls pass (maxIdenticalToolCalls), the fourth proposal is refused.
    expect(turns).toBe(4);
    // A terminal stop ends the run: the next call is refused before reaching the model.
    const calls = gw.sim.stats.calls;
    await expect(client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 403 });
    expect(gw.sim.stats.calls).toBe(calls);
  });
});

function chunk(delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null, index = 0): ChatChunk {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta, finish_reason: finish }] };
}

function gateOf(forbidden: string[]): ToolCallCheck {
  return {
    check: async (calls) =>
      calls.filter((c) => forbidden.includes(c.function.name)).map((call) => ({ call, error: guardError('policy.denied', `no ${call.function.name}`) })),
    refuse: async (v) => v.error,
  };
}

async function run(buffer: StreamToolCalls, chunks: ChatChunk[]): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for (const c of chunks) {
    if (buffer.involves(c)) out.push(...(await buffer.take(c)));
    else out.push(c);
  }
  out.push(...(await buffer.flush()));
  return out;
}

describe('StreamToolCalls', () => {
  const stream = [
    chunk({ role: 'assistant', content: 'Let me look.' }),
    chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'search', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'delete_file', arguments: '{"path"' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: ':"/"}' } }] }),
    chunk({}, 'tool_calls'),
  ];

  it('holds tool-call deltas (even interleaved) until the finish, text flows at once', async () => {
    const out = await run(new StreamToolCalls(gateOf([]), 'refuse'), stream);
    expect(out[0]).toBe(stream[0]);
    const calls = out.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls).toEqual([
      { index: 0, id: 'a', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } },
      { index: 1, id: 'b', type: 'function', function: { name: 'delete_file', arguments: '{"path":"/"}' } },
    ]);
    expect(out.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
    expect(out).toHaveLength(3);
  });

  it('refuse: throws the violation at the finish, having sent no call', async () => {
    const buffer = new StreamToolCalls(gateOf(['delete_file']), 'refuse');
    const sent: ChatChunk[] = [];
    const error = await (async () => {
      for (const c of stream) sent.push(...(buffer.involves(c) ? await buffer.take(c) : [c]));
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'policy.denied' });
    expect(sent.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))).toEqual([]);
  });

  it('strip: drops the offending call, renumbers the rest, appends a note after the text', async () => {
    const out = await run(new StreamToolCalls(gateOf(['delete_file']), 'strip'), stream);
    const calls = out.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls).toEqual([{ index: 0, id: 'a', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } }]);
    const text = out.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toMatch(/^Let me look\.\n\n\[fmguard removed the tool call delete_file \(policy\.denied\)/);
    expect(out.at(-1)!.choices[0].finish_reason).toBe('tool_calls');

    const all = await run(new StreamToolCalls(gateOf(['search', 'delete_file']), 'strip'), stream);
    expect(all.at(-1)!.choices[0].finish_reason).toBe('stop');
  });

  it('releases calls of a stream that ended without a finish reason', async () => {
    const out = await run(new StreamToolCalls(gateOf([]), 'refuse'), stream.slice(0, -1));
    expect(out.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))).toHaveLength(2);
  });

  it('keeps choices apart (n > 1)', async () => {
    const two = [
      chunk({ tool_calls: [{ index: 0, id: 'x', type: 'function', function: { name: 'search', arguments: '{}' } }] }, null, 0),
      chunk({ tool_calls: [{ index: 0, id: 'y', type: 'function', function: { name: 'delete_file', arguments: '{}' } }] }, null, 1),
      chunk({}, 'tool_calls', 0),
      chunk({}, 'tool_calls', 1),
    ];
    const out = await run(new StreamToolCalls(gateOf(['delete_file']), 'strip'), two);
    const byChoice = (i: number) =>
      out.flatMap((c) => c.choices.filter((ch) => ch.index === i).flatMap((ch) => ch.delta.tool_calls ?? [])) as Array<Partial<ChatToolCall>>;
    expect(byChoice(0).map((c) => c.id)).toEqual(['x']);
    expect(byChoice(1)).toEqual([]);
  });
});
