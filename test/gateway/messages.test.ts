import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_KEY, closeAll, gatewayConfig, startGateway } from './helpers.ts';
import { anthropic, messagesTool, namedSse, postTo } from './inbound-helpers.ts';

/**
 * `POST /v1/messages` with the official `@anthropic-ai/sdk`: plain and streamed, system prompts,
 * tool use and tool results in a loop, `x-api-key`, the tool-call check on `tool_use` blocks, and
 * errors in Anthropic's shape with fmguard's code.
 */
afterEach(closeAll);

const search = messagesTool('search');
const noDeletes = gatewayConfig({ allow: { models: ['*'], tools: ['demo.search'] } });
const cleanUp = {
  model: 'sim-small',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: '[sim:forbidden_tool demo__delete_file] clean up' }],
  tools: [messagesTool('demo__search'), messagesTool('demo__delete_file')],
};

describe('POST /v1/messages', () => {
  it('messages.create with x-api-key: text, stop reason, usage, the run headers', async () => {
    const gw = await startGateway();
    const client = anthropic(gw);
    const { data: message, response: raw } = await client.messages
      .create({ model: 'sim-small', max_tokens: 512, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'sim-small', stop_reason: 'end_turn' });
    expect(message.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(raw.headers.get('x-fmguard-run')).toMatch(/^run_/);
    expect(Number(raw.headers.get('x-fmguard-run-cost-usd'))).toBeCloseTo((message.usage.input_tokens * 0.15 + message.usage.output_tokens * 0.6) / 1e6, 12);

    const capped = await client.messages.create({ model: 'sim-small', max_tokens: 16, messages: [{ role: 'user', content: '[sim:long 3000] an essay' }] });
    expect(capped.stop_reason).toBe('max_tokens');
    expect(capped.usage.output_tokens).toBeLessThanOrEqual(16);
  });

  it('messages.stream: message_start, content blocks, message_delta with usage, message_stop; same text as plain', async () => {
    const gw = await startGateway();
    const client = anthropic(gw);
    const request = { model: 'sim-small', max_tokens: 512, messages: [{ role: 'user' as const, content: 'tell me about budgets' }] };
    const stream = client.messages.stream(request);
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types).toContain('content_block_start');
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(5);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    const plain = await client.messages.create(request);
    expect(final.content).toEqual(plain.content);
  });

  it.each([false, true])('tool use and tool results in a loop (streamed: %s)', async (streamed) => {
    const gw = await startGateway();
    const client = anthropic(gw);
    const messages: MessageParam[] = [{ role: 'user', content: '[sim:tool_call] find the refund policy' }];
    const used: string[] = [];
    let final = '';
    for (let turn = 0; turn < 4 && !final; turn++) {
      const request = { model: 'sim-small', max_tokens: 512, messages, tools: [search] };
      const message = streamed ? await client.messages.stream(request).finalMessage() : await client.messages.create(request);
      messages.push({ role: 'assistant', content: message.content });
      const uses = message.content.filter((block) => block.type === 'tool_use');
      if (uses.length === 0) {
        final = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        break;
      }
      expect(message.stop_reason).toBe('tool_use');
      for (const use of uses) used.push(`${use.name}:${JSON.stringify(use.input)}`);
      messages.push({ role: 'user', content: uses.map((use) => ({ type: 'tool_result' as const, tool_use_id: use.id, content: '3 documents' })) });
    }
    expect(used).toEqual(['search:{"query":"find the refund policy"}']);
    expect(final).toMatch(/^Based on the tool result/);
  });

  it('a forbidden tool_use is refused in Anthropic’s shape (plain and mid-stream) and never reaches the agent', async () => {
    const gw = await startGateway({ config: noDeletes });
    const client = anthropic(gw);
    const plain = await client.messages.create(cleanUp).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(plain).toMatchObject({ status: 403, type: 'permission_error', errorCode: 'policy.denied' });
    expect((plain as InstanceType<typeof Anthropic.APIError>).headers?.get('x-fmguard-code')).toBe('policy.denied');

    const res = await postTo(gw, '/v1/messages', { ...cleanUp, stream: true });
    const events = namedSse(await res.text());
    expect(events.some(([, data]) => JSON.stringify(data.content_block ?? '').includes('tool_use'))).toBe(false);
    expect(events.at(-1)).toEqual([
      'error',
      { type: 'error', error: expect.objectContaining({ type: 'permission_error', code: 'policy.denied', details: { error_code: 'policy.denied' } }) },
    ]);
    const streamed = await client.messages
      .stream(cleanUp)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(streamed).toMatchObject({ errorCode: 'policy.denied' });
  });

  it('strip mode: the forbidden tool_use is removed, the text says why, the stop reason is end_turn', async () => {
    const gw = await startGateway({ config: noDeletes, gateway: { toolCallViolation: 'strip' } });
    const client = anthropic(gw);
    for (const message of [await client.messages.create(cleanUp), await client.messages.stream(cleanUp).finalMessage()]) {
      expect(message.content.filter((block) => block.type === 'tool_use')).toEqual([]);
      expect(message.stop_reason).toBe('end_turn');
      expect(JSON.stringify(message.content)).toMatch(/fmguard removed the tool call demo__delete_file \(policy\.denied\)/);
    }
  });

  it('errors before a run are in Anthropic’s shape too: a bad key, bad input, an unknown model, a wrong method', async () => {
    const gw = await startGateway();
    const badKey = await anthropic(gw, { key: 'sk-not-a-key-0000' })
      .messages.create({ model: 'sim-small', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(badKey).toMatchObject({ status: 401, errorCode: 'auth.invalid', error: { type: 'error', error: { type: 'authentication_error' } } });
    const cases: Array<[unknown, string]> = [
      [{ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }, 'max_tokens'],
      [{ model: 'sim-small', max_tokens: 5, messages: [] }, 'messages'],
      [{ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'sim-small', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document' }] }] }, 'messages[0].content[0].type'],
      [
        { model: 'sim-small', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
        'tools[0].type',
      ],
    ];
    for (const [body, param] of cases) {
      const res = await postTo(gw, '/v1/messages', body, { authorization: '', 'x-api-key': BOT_KEY });
      expect(res.status, param).toBe(400);
      expect(await res.json()).toEqual({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: expect.any(String),
          code: 'request.invalid',
          details: { error_code: 'request.invalid' },
          fmguard: { param },
        },
        request_id: null,
      });
    }
    const notJson = await postTo(gw, '/v1/messages', '{nope', { 'x-api-key': BOT_KEY });
    expect(await notJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code: 'request.invalid' } });
    const get = await fetch(`${gw.url}/v1/messages`, { headers: { 'x-api-key': BOT_KEY } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code: 'request.invalid' } });
    expect(gw.sim.stats.calls).toBe(0);
  });
});
