import { ChatOpenAI } from '@langchain/openai';
import { createAgent, tool, type AIMessage, type BaseMessage } from 'langchain';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { costUsd, createGuard, frameworkConfig, lang, rejection, startSimServer, type Guard, type SimServer } from './helpers.ts';

const { guardMiddleware, frameworkProvider, findGuardError } = lang;

let sim: SimServer;
beforeAll(async () => {
  sim = await startSimServer({ model: { seed: 5, tokensPerSecond: 4000 } });
});
afterAll(async () => {
  await sim.close();
});

const guards: Guard[] = [];
afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.close();
});

function guardFor(agent: Record<string, unknown> = {}): Guard {
  const guard = createGuard({ config: frameworkConfig(agent), providers: { app: frameworkProvider('app') } });
  guards.push(guard);
  return guard;
}

/** LangChain's own OpenAI chat model, against the simulated model; fmguard does the retrying. */
function chatModel(model = 'gpt-test') {
  return new ChatOpenAI({ model, apiKey: 'sk-not-used', configuration: { baseURL: `${sim.url}/v1` }, maxRetries: 0 });
}

function searchTool(executed: string[]) {
  return tool(
    async ({ query }) => {
      executed.push(query);
      return `3 documents match ${query}`;
    },
    { name: 'search', description: 'Search the knowledge base', schema: z.object({ query: z.string() }) },
  );
}

const ask = (text: string) => ({ messages: [{ role: 'user', content: text }] });

describe('fmguard/langchain', () => {
  it('a looping agent is stopped at its step limit with limit.steps', async () => {
    const guard = guardFor({ limits: { maxSteps: 4, maxIdenticalToolCalls: 100 } });
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const agent = createAgent({
      model: chatModel(),
      tools: [searchTool(executed)],
      middleware: [guardMiddleware(run, { toolServer: 'demo', proposedToolCalls: 'allow' })],
    });
    const error = await rejection(agent.invoke(ask('[sim:tool_loop] Where is my order?'), { recursionLimit: 100 }));
    expect(findGuardError(error)?.code).toBe('limit.steps');
    expect((error as Error).message).toContain('limit.steps');
    expect((await run.usage()).steps).toBe(4);
    expect(executed).toHaveLength(4);
  });

  it('with exitBehavior end the agent finishes with a last message saying why', async () => {
    const guard = guardFor({ limits: { maxSteps: 3, maxIdenticalToolCalls: 100 } });
    const run = await guard.startRun({ agent: 'bot' });
    const agent = createAgent({
      model: chatModel(),
      tools: [searchTool([])],
      middleware: [guardMiddleware(run, { toolServer: 'demo', proposedToolCalls: 'allow', exitBehavior: 'end' })],
    });
    const state = await agent.invoke(ask('[sim:tool_loop] go'), { recursionLimit: 100 });
    const last = state.messages.at(-1) as BaseMessage;
    expect(String(last.content)).toContain('limit.steps');
    expect((await run.usage()).steps).toBe(3);
  });

  it('repeating the same tool call is stopped with loop.repeated_tool_call', async () => {
    const guard = guardFor({ limits: { maxIdenticalToolCalls: 2 } });
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const agent = createAgent({ model: chatModel(), tools: [searchTool(executed)], middleware: [guardMiddleware(run, { toolServer: 'demo' })] });
    const error = await rejection(agent.invoke(ask('[sim:tool_loop] find it'), { recursionLimit: 100 }));
    expect(findGuardError(error)?.code).toBe('loop.repeated_tool_call');
    expect(run.stopError?.code).toBe('loop.repeated_tool_call');
    expect(executed).toHaveLength(2);
  });

  it('a forbidden tool proposed by the model is refused with policy.denied; the tool never runs', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const deleted: string[] = [];
    const deleteFile = tool(async ({ path }) => void deleted.push(path), {
      name: 'delete_file',
      description: 'Delete a file',
      schema: z.object({ path: z.string(), recursive: z.boolean() }),
    });
    const agent = createAgent({ model: chatModel(), tools: [deleteFile], middleware: [guardMiddleware(run, { toolServer: 'demo' })] });
    const error = await rejection(agent.invoke(ask('[sim:forbidden_tool] Tidy up.')));
    expect(findGuardError(error)?.code).toBe('policy.denied');
    expect(deleted).toEqual([]);
  });

  it('with proposed calls allowed, wrapToolCall refuses the forbidden call and the model is told why', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const deleted: string[] = [];
    const deleteFile = tool(async ({ path }) => void deleted.push(path), {
      name: 'delete_file',
      description: 'Delete a file',
      schema: z.object({ path: z.string() }),
    });
    const agent = createAgent({
      model: chatModel(),
      tools: [deleteFile],
      middleware: [guardMiddleware(run, { toolServer: 'demo', proposedToolCalls: 'allow' })],
    });
    const state = await agent.invoke(ask('[sim:tool_call delete_file] Tidy up.'));
    expect(deleted).toEqual([]);
    const toolMessage = state.messages.find((m: BaseMessage) => m.getType() === 'tool');
    expect(String(toolMessage?.content)).toContain('policy.denied');
    expect((await run.usage()).toolCalls).toBe(0);
  });

  it('a streamed agent is cut mid-answer by a kill, and the model’s request is aborted', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const agent = createAgent({ model: chatModel(), tools: [], middleware: [guardMiddleware(run)] });
    const abortsBefore = sim.sim.aborts.length;
    let text = '';
    const error = await rejection(
      (async () => {
        const stream = await agent.stream(ask('[sim:long 100000] Write everything you know.'), { streamMode: 'messages' });
        for await (const [chunk] of stream) {
          text += typeof chunk.content === 'string' ? chunk.content : '';
          if (text.length > 200 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'operator pressed stop');
        }
      })(),
    );
    expect(findGuardError(error)?.code).toBe('kill.switch');
    expect(text.length).toBeGreaterThan(200);
    await expect.poll(() => sim.sim.aborts.length).toBeGreaterThan(abortsBefore);
    const used = await run.usage();
    expect(used.steps).toBe(1);
    expect(used.outputTokens).toBeGreaterThan(0);
    expect(used.outputTokens).toBeLessThan(100_000);
  });

  it.each([true, false])(
    'spend is recorded exactly as the gateway records it (streaming %s): the usage each response reported, at the price table',
    async (streaming) => {
      const guard = guardFor();
      const run = await guard.startRun({ agent: 'bot' });
      const agent = createAgent({ model: chatModel(), tools: [searchTool([])], middleware: [guardMiddleware(run, { toolServer: 'demo', streaming })] });
      const state = await agent.invoke(ask('[sim:tool_call search] Find the refund policy.'));
      const answers = state.messages.filter((m: BaseMessage) => m.getType() === 'ai') as AIMessage[];
      expect(answers).toHaveLength(2);
      const calls = answers.map((m) => ({ inputTokens: m.usage_metadata!.input_tokens, outputTokens: m.usage_metadata!.output_tokens }));
      expect(calls.every((c) => c.inputTokens > 0 && c.outputTokens > 0)).toBe(true);
      const used = await run.usage();
      expect(used.steps).toBe(2);
      expect(used.toolCalls).toBe(1);
      expect(used.inputTokens).toBe(calls.reduce((s, c) => s + c.inputTokens, 0));
      expect(used.outputTokens).toBe(calls.reduce((s, c) => s + c.outputTokens, 0));
      expect(used.costUsd).toBe(costUsd(calls));
    },
  );
});
