import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, Runner, tool as agentTool } from '@openai/agents';
import { OpenAIProvider } from '@openai/agents-openai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BOT_KEY, closeAll, gatewayConfig, startGateway, type TestGateway } from './helpers.ts';

/**
 * Agent frameworks pointed at the gateway, unchanged: the OpenAI Agents SDK with its default model
 * (the Responses API), and the AI SDK's OpenAI provider in Responses mode and Anthropic provider on
 * /v1/messages. Each runs a tool loop; a stop reaches each as that framework's own error.
 */
afterEach(closeAll);

function agentsRunner(gw: TestGateway, run: string): Runner {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY, maxRetries: 0, defaultHeaders: { 'x-fmguard-run': run } });
  // useResponses is the SDK's default; said here so the test cannot silently fall back to Chat Completions.
  return new Runner({ modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: true }), tracingDisabled: true });
}

function lookup(executed: string[]) {
  return agentTool({
    name: 'search',
    description: 'Search the knowledge base',
    parameters: z.object({ query: z.string() }),
    execute: async ({ query }) => {
      executed.push(query);
      return `3 documents match ${query}`;
    },
  });
}

describe('the OpenAI Agents SDK on /v1/responses', () => {
  it('a well-behaved agent calls its tool and answers', async () => {
    const gw = await startGateway();
    const executed: string[] = [];
    const agent = new Agent({ name: 'support', instructions: 'Use the knowledge base.', model: 'sim-small', tools: [lookup(executed)] });
    const result = await agentsRunner(gw, 'agents-ok').run(agent, '[sim:tool_call] refund policy');
    expect(executed).toEqual(['refund policy']);
    expect(result.finalOutput).toMatch(/^Based on the tool result/);
  });

  it.each([false, true])('a looping agent is stopped with loop.repeated_tool_call, surfaced as the SDK’s error (streamed: %s)', async (streamed) => {
    const gw = await startGateway({ config: gatewayConfig({ limits: { maxIdenticalToolCalls: 2 } }) });
    const executed: string[] = [];
    const agent = new Agent({ name: 'looper', instructions: 'Search until sure.', model: 'sim-small', tools: [lookup(executed)] });
    const runner = agentsRunner(gw, `agents-loop-${streamed}`);
    const error = await (async () => {
      if (!streamed) return runner.run(agent, '[sim:tool_loop] find it', { maxTurns: 20 });
      const stream = await runner.run(agent, '[sim:tool_loop] find it', { maxTurns: 20, stream: true });
      for await (const _ of stream) {
        // read to the end
      }
      await stream.completed;
      if (stream.error) throw stream.error;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    // The refusal is the openai client's own error class, with fmguard's code and status.
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ code: 'loop.repeated_tool_call' });
    // The third identical proposal never reached the agent: two executions, then the stop.
    expect(executed).toEqual(['find it', 'find it']);
    // The run is over: a loop is terminal.
    await expect(
      new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY, maxRetries: 0, defaultHeaders: { 'x-fmguard-run': `agents-loop-${streamed}` } }).responses.create({
        model: 'sim-small',
        input: 'hi',
      }),
    ).rejects.toMatchObject({ status: 403 });
  });
});

const search = tool({
  description: 'Search the knowledge base',
  inputSchema: z.object({ query: z.string() }),
  execute: async ({ query }) => `3 documents match ${query}`,
});

describe('the AI SDK on /v1/responses and /v1/messages', () => {
  const providers = {
    // Stateless gateway: the Responses provider must send whole conversations (store: false), not item references.
    'openai.responses': (gw: TestGateway) => ({
      model: createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY }).responses('sim-small'),
      providerOptions: { openai: { store: false } },
    }),
    anthropic: (gw: TestGateway) => ({ model: createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: BOT_KEY })('sim-small'), providerOptions: {} }),
  };

  it.each(Object.keys(providers))('%s: generateText and streamText run a tool loop to an answer', async (name) => {
    const gw = await startGateway();
    const { model, providerOptions } = providers[name as keyof typeof providers](gw);
    const request = {
      model,
      providerOptions,
      tools: { search },
      stopWhen: stepCountIs(4),
      prompt: '[sim:tool_call] refund policy',
      maxRetries: 0,
      maxOutputTokens: 512,
    };
    const plain = await generateText(request);
    expect(plain.steps).toHaveLength(2);
    expect(plain.steps[0]!.toolCalls.map((c) => [c.toolName, c.input])).toEqual([['search', { query: 'refund policy' }]]);
    expect(plain.text).toMatch(/^Based on the tool result/);
    expect(plain.totalUsage.outputTokens).toBeGreaterThan(0);

    const streamed = streamText(request);
    expect(await streamed.text).toBe(plain.text);
    expect((await streamed.steps).length).toBe(2);
  });

  it.each(Object.keys(providers))('%s: a kill switch surfaces as APICallError with the code (plain and streamed)', async (name) => {
    const gw = await startGateway();
    await gw.guard.kill('agent:bot', 'runaway');
    const { model, providerOptions } = providers[name as keyof typeof providers](gw);
    const plain = await generateText({ model, providerOptions, prompt: 'hi', maxRetries: 0, maxOutputTokens: 512 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(plain)).toBe(true);
    expect(plain).toMatchObject({ statusCode: 403 });
    expect((plain as APICallError).responseBody).toContain('kill.switch');
    const errors: unknown[] = [];
    const streamed = streamText({ model, providerOptions, prompt: 'hi', maxRetries: 0, maxOutputTokens: 512, onError: ({ error }) => void errors.push(error) });
    await streamed.consumeStream();
    expect(errors).toHaveLength(1);
    expect((errors[0] as APICallError).responseBody).toContain('kill.switch');
  });
});
