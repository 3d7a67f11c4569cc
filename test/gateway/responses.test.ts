import type { ResponseFunctionToolCall, ResponseInputItem, ResponseOutputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../../src/providers/simulated/sim-server.ts';
import { closeAll, gatewayConfig, startGateway, type TestGateway } from './helpers.ts';
import { namedSse, postTo, responsesTool } from './inbound-helpers.ts';

/**
 * `POST /v1/responses` with the official `openai` client (v6): plain and streamed, a function-call
 * loop, the stateless rules, the tool-call check, and the pass-through to an upstream that serves
 * the Responses API itself (the simulated model as an HTTP server).
 */
let sim: SimServer | undefined;
afterEach(async () => {
  await closeAll();
  await sim?.close();
  sim = undefined;
});

const search = responsesTool('search');
// Tools are named server__tool to models; policies name them server.tool.
const demoSearch = responsesTool('demo__search');
const deleteTool = responsesTool('demo__delete_file');
const noDeletes = gatewayConfig({ allow: { models: ['*'], tools: ['demo.search'] } });

/** Events that would hand the agent a function call (the tool list echoed in the response object is not one). */
function callEvents(events: Array<[string, Record<string, unknown>]>): string[] {
  return events
    .filter(([name, data]) => name.startsWith('response.function_call') || JSON.stringify(data.item ?? '').includes('function_call'))
    .map(([name]) => name);
}

async function runFunctionLoop(gw: TestGateway, streamed: boolean): Promise<{ turns: number; final: string; calls: string[] }> {
  const client = gw.client({ headers: { 'x-fmguard-run': `loop-${streamed}` } });
  const input: ResponseInputItem[] = [{ role: 'user', content: '[sim:tool_call] find the refund policy' }];
  const calls: string[] = [];
  for (let turn = 1; turn <= 5; turn++) {
    const request = { model: 'sim-small', instructions: 'Use the tools.', input, tools: [search] };
    const response = streamed ? await client.responses.stream(request).finalResponse() : await client.responses.create(request);
    const output: ResponseOutputItem[] = response.output;
    const fnCalls = output.filter((item): item is ResponseFunctionToolCall => item.type === 'function_call');
    if (fnCalls.length === 0) return { turns: turn, final: response.output_text, calls };
    for (const call of fnCalls) {
      calls.push(`${call.name}(${call.arguments})`);
      input.push({ type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments });
      input.push({ type: 'function_call_output', call_id: call.call_id, output: `3 documents about ${JSON.parse(call.arguments).query}` });
    }
  }
  throw new Error('the loop did not end');
}

describe('POST /v1/responses (translated onto a Chat Completions upstream)', () => {
  it('responses.create: text, usage as fmguard counted it, the run headers, and max_output_tokens', async () => {
    const gw = await startGateway();
    const client = gw.client();
    const { data: response, response: raw } = await client.responses
      .create({ model: 'sim-small', instructions: 'Be brief.', input: 'hello there', store: true })
      .withResponse();
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'sim-small', instructions: 'Be brief.', store: false });
    expect(response.id).toMatch(/^resp_[0-9a-f]{24}$/);
    expect(response.output_text.length).toBeGreaterThan(10);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(raw.headers.get('x-fmguard-run')).toMatch(/^run_/);
    expect(raw.headers.get('x-fmguard-run-steps')).toBe('1');
    const usage = response.usage!;
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    // The sim counts the instructions as a system message: more input than the user text alone.
    const bare = await client.responses.create({ model: 'sim-small', input: 'hello there' });
    expect(usage.input_tokens).toBeGreaterThan(bare.usage!.input_tokens);
    expect(Number(raw.headers.get('x-fmguard-run-cost-usd'))).toBeCloseTo((usage.input_tokens * 0.15 + usage.output_tokens * 0.6) / 1e6, 12);

    const capped = await client.responses.create({ model: 'sim-small', input: '[sim:long 3000] an essay', max_output_tokens: 20 });
    expect(capped.status).toBe('incomplete');
    expect(capped.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(capped.usage!.output_tokens).toBeLessThanOrEqual(20);
  });

  it('responses.stream: created first, text deltas, completed with usage; every event numbered in order', async () => {
    const gw = await startGateway();
    const stream = gw.client().responses.stream({ model: 'sim-small', input: 'tell me about budgets' });
    const events: ResponseStreamEvent[] = [];
    let text = '';
    for await (const event of stream) {
      events.push(event);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'response.output_text.delta').length).toBeGreaterThan(5);
    expect(final.output_text).toBe(text);
    expect(final.usage!.output_tokens).toBeGreaterThan(0);
    // The same request answered plainly says the same (the sim is deterministic).
    const plain = await gw.client().responses.create({ model: 'sim-small', input: 'tell me about budgets' });
    expect(plain.output_text).toBe(text);
  });

  it.each([false, true])('a function-call loop with the client (streamed: %s): call, output, answer', async (streamed) => {
    const gw = await startGateway();
    const loop = await runFunctionLoop(gw, streamed);
    expect(loop.turns).toBe(2);
    expect(loop.calls).toEqual(['search({"query":"find the refund policy"})']);
    expect(loop.final).toMatch(/^Based on the tool result/);
    // Two model calls, both on the named run.
    expect((await (await gw.guard.startRun({ key: 'sk-test-bot-0001', id: `loop-${streamed}` })).usage()).steps).toBe(2);
  });

  it('is stateless: previous_response_id, item references, conversations and hosted tools get request.invalid naming the field', async () => {
    const gw = await startGateway();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ previous_response_id: 'resp_123' }, 'previous_response_id'],
      [{ conversation: 'conv_1' }, 'conversation'],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
      [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ input: [{ type: 'computer_call_output', call_id: 'c' }] }, 'input[0].type'],
      [{ max_output_tokens: 0 }, 'max_output_tokens'],
      [{ input: 42 }, 'input'],
    ];
    for (const [fields, param] of cases) {
      const res = await postTo(gw, '/v1/responses', { model: 'sim-small', input: 'hi', ...fields });
      expect(res.status, param).toBe(400);
      expect(res.headers.get('x-fmguard-code')).toBe('request.invalid');
      const body = await res.json();
      expect(body.error).toMatchObject({ type: 'fmguard_error', code: 'request.invalid', param });
    }
    const stateful = await postTo(gw, '/v1/responses', { model: 'sim-small', input: 'hi', previous_response_id: 'resp_1' });
    expect((await stateful.json()).error.message).toMatch(/stateless/);
    // Nothing ran: bad input creates no run and calls no model.
    expect(gw.sim.stats.calls).toBe(0);
  });

  it('a forbidden function call is refused (policy.denied) plainly and mid-stream, and never reaches the agent', async () => {
    const gw = await startGateway({ config: noDeletes });
    const request = { model: 'sim-small', input: '[sim:forbidden_tool demo__delete_file] clean up', tools: [demoSearch, deleteTool] };
    const plain = await gw
      .client({ maxRetries: 0 })
      .responses.create(request)
      .catch((e: unknown) => e);
    expect(plain).toMatchObject({ status: 403, code: 'policy.denied' });

    const res = await postTo(gw, '/v1/responses', { ...request, stream: true });
    expect(res.status).toBe(200);
    const events = namedSse(await res.text());
    expect(callEvents(events)).toEqual([]);
    const [failedName, failed] = events.at(-2)!;
    expect(failedName).toBe('response.failed');
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'policy.denied' } });
    // The refused call is not in the failed response's output either (it carries what the agent was sent).
    const failedOutput = (failed.response as { output: Array<{ type: string }> }).output;
    expect(failedOutput.filter((item) => item.type === 'function_call')).toEqual([]);
    const [errorName, error] = events.at(-1)!;
    expect(errorName).toBe('error');
    expect(error).toMatchObject({ type: 'error', code: 'policy.denied', error: { type: 'fmguard_error', code: 'policy.denied' } });

    const streamed = await (async () => {
      for await (const _ of gw.client().responses.stream(request)) {
        // read to the end
      }
    })().catch((e: unknown) => e);
    expect(streamed).toMatchObject({ code: 'policy.denied' });
  });

  it('strip mode: the forbidden call is removed and the output says why', async () => {
    const gw = await startGateway({ config: noDeletes, gateway: { toolCallViolation: 'strip' } });
    const request = { model: 'sim-small', input: '[sim:forbidden_tool demo__delete_file] clean up', tools: [demoSearch, deleteTool] };
    for (const response of [await gw.client().responses.create(request), await gw.client().responses.stream(request).finalResponse()]) {
      expect(response.output.filter((item) => item.type === 'function_call')).toEqual([]);
      expect(response.output_text).toMatch(/fmguard removed the tool call demo__delete_file \(policy\.denied\)/);
    }
  });
});

describe('POST /v1/responses passed through to an upstream that serves the Responses API', () => {
  /** A gateway whose provider `sim` is the sim server, declared as serving the Responses API. */
  async function start(bot: Record<string, unknown> = {}, gateway: Parameters<typeof startGateway>[0] = {}) {
    sim ??= await startSimServer();
    const config = gatewayConfig(bot, { providers: { sim: { kind: 'openai', baseUrl: `${sim.url}/v1`, responses: true } } });
    return startGateway({ config, guard: { providers: {} }, ...gateway });
  }

  function upstreamBodies(): Array<Record<string, unknown>> {
    const bodies: Array<Record<string, unknown>> = [];
    sim!.events.on('request', ({ path, body }) => {
      if (path === '/v1/responses') bodies.push(body);
    });
    return bodies;
  }

  it('the body goes upstream as the agent sent it (capped, store: false), the response comes back as it came, metered', async () => {
    const gw = await start();
    const bodies = upstreamBodies();
    const input: ResponseInputItem[] = [
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
      { role: 'user', content: 'hello there' },
    ];
    const { data: response, response: raw } = await gw
      .client()
      .responses.create({ model: 'sim-small', input, metadata: { ticket: 'T-1' }, include: ['reasoning.encrypted_content'], store: true })
      .withResponse();
    expect(response.id).toMatch(/^resp_sim_\d+$/);
    expect(response.output_text.length).toBeGreaterThan(10);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      model: 'sim-small',
      input,
      metadata: { ticket: 'T-1' },
      include: ['reasoning.encrypted_content'],
      store: false,
      stream: false,
    });
    // The output cap the runtime reserved (the agent's limit, the model's maximum) is sent along.
    expect(bodies[0]!.max_output_tokens).toBe(4096);
    const usage = response.usage!;
    expect(Number(raw.headers.get('x-fmguard-run-cost-usd'))).toBeCloseTo((usage.input_tokens * 0.15 + usage.output_tokens * 0.6) / 1e6, 12);

    const stream = gw.client().responses.stream({ model: 'sim-small', input: 'hello there', max_output_tokens: 50 });
    const final = await stream.finalResponse();
    expect(final.id).toMatch(/^resp_sim_\d+$/);
    expect(bodies[1]).toMatchObject({ stream: true, max_output_tokens: 50 });
  });

  it('function calls passed through are checked: refused plainly and mid-stream, stripped with a note', async () => {
    const gw = await start({ allow: { models: ['*'], tools: ['demo.search'] } });
    const request = { model: 'sim-small', input: '[sim:forbidden_tool demo__delete_file] clean up', tools: [demoSearch, deleteTool] };
    await expect(gw.client({ maxRetries: 0 }).responses.create(request)).rejects.toMatchObject({ status: 403, code: 'policy.denied' });
    const res = await postTo(gw, '/v1/responses', { ...request, stream: true });
    const events = namedSse(await res.text());
    expect(callEvents(events)).toEqual([]);
    expect(events.at(-1)![1]).toMatchObject({ type: 'error', code: 'policy.denied' });
    expect(events.at(-2)![1]).toMatchObject({ type: 'response.failed', response: { id: expect.stringMatching(/^resp_sim_/), status: 'failed' } });

    const stripGw = await start({ allow: { models: ['*'], tools: ['demo.search'] } }, { gateway: { toolCallViolation: 'strip' } });
    for (const response of [await stripGw.client().responses.create(request), await stripGw.client().responses.stream(request).finalResponse()]) {
      expect(response.id).toMatch(/^resp_sim_/);
      expect(response.output.filter((item) => item.type === 'function_call')).toEqual([]);
      expect(response.output_text).toMatch(/fmguard removed the tool call demo__delete_file \(policy\.denied\)/);
    }
  });
});
