import { Agent, AgentsError, MaxTurnsExceededError, Runner, ToolCallError, tool } from '@openai/agents';
import { OpenAIProvider } from '@openai/agents-openai';
import OpenAI from 'openai';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agents, costUsd, createGuard, frameworkConfig, GuardError, rejection, startSimServer, type Guard, type SimServer } from './helpers.ts';

const { guardModelProvider, guardAgentTools, maxTurnsFor, frameworkProvider, findGuardError, GuardStopError, GuardMaxTurnsError } = agents;

let sim: SimServer;
beforeAll(async () => {
  // The simulated model over HTTP, paced so a long answer takes a while to stream.
  sim = await startSimServer({ model: { seed: 3, tokensPerSecond: 4000 } });
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

/** The Agents SDK's own Chat Completions model, with the official client, against the simulated model. */
function runnerFor(run: Parameters<typeof guardModelProvider>[1], options: Parameters<typeof guardModelProvider>[2] = { toolServer: 'demo' }): Runner {
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-not-used', maxRetries: 0 });
  const provider = new OpenAIProvider({ openAIClient: client, useResponses: false });
  return new Runner({ modelProvider: guardModelProvider(provider, run, options), tracingDisabled: true });
}

function searchTool(executed: string[]) {
  return tool({
    name: 'search',
    description: 'Search the knowledge base',
    parameters: z.object({ query: z.string() }),
    execute: async ({ query }) => {
      executed.push(query);
      return `3 documents match ${query}`;
    },
  });
}

describe('fmguard/openai-agents', () => {
  it('a looping agent is stopped at its step limit as the SDK’s MaxTurnsExceededError carrying limit.steps', async () => {
    const guard = guardFor({ limits: { maxSteps: 4, maxIdenticalToolCalls: 100, maxToolCalls: 100 } });
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const agent = new Agent({
      name: 'support',
      instructions: 'Answer from the knowledge base.',
      model: 'gpt-test',
      tools: guardAgentTools([searchTool(executed)], run, { toolServer: 'demo' }),
    });
    const maxTurns = await maxTurnsFor(run);
    expect(maxTurns).toBe(5);
    const error = await rejection(
      runnerFor(run, { toolServer: 'demo', proposedToolCalls: 'allow' }).run(agent, '[sim:tool_loop] Where is my order?', { maxTurns }),
    );
    expect(error).toBeInstanceOf(MaxTurnsExceededError);
    expect(error).toBeInstanceOf(GuardMaxTurnsError);
    expect((error as InstanceType<typeof GuardMaxTurnsError>).code).toBe('limit.steps');
    expect(GuardError.isInstance((error as Error).cause)).toBe(true);
    expect((await run.usage()).steps).toBe(4);
    expect(executed).toHaveLength(4);
  });

  it('the SDK’s maxTurns error handler turns the fmguard step limit into a final output', async () => {
    const guard = guardFor({ limits: { maxSteps: 2, maxIdenticalToolCalls: 100 } });
    const run = await guard.startRun({ agent: 'bot' });
    const agent = new Agent({ name: 'support', model: 'gpt-test', tools: guardAgentTools([searchTool([])], run, { toolServer: 'demo' }) });
    const result = await runnerFor(run, { toolServer: 'demo', proposedToolCalls: 'allow' }).run(agent, '[sim:tool_loop] go', {
      maxTurns: await maxTurnsFor(run),
      errorHandlers: { maxTurns: ({ error }) => ({ finalOutput: `stopped: ${(error as InstanceType<typeof GuardMaxTurnsError>).code}` }) },
    });
    expect(result.finalOutput).toBe('stopped: limit.steps');
  });

  it('the same call repeated is stopped by the loop detector with loop.repeated_tool_call', async () => {
    const guard = guardFor({ limits: { maxIdenticalToolCalls: 2 } });
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const agent = new Agent({ name: 'support', model: 'gpt-test', tools: guardAgentTools([searchTool(executed)], run, { toolServer: 'demo' }) });
    const error = await rejection(runnerFor(run).run(agent, '[sim:tool_loop] Where is my order?', { maxTurns: 50 }));
    expect(error).toBeInstanceOf(AgentsError);
    expect((error as InstanceType<typeof GuardStopError>).code).toBe('loop.repeated_tool_call');
    expect(run.stopError?.code).toBe('loop.repeated_tool_call');
    expect(executed).toHaveLength(2);
  });

  it('with proposed calls allowed, the tool input guardrail stops the loop: the SDK’s ToolCallError carries GuardStopError', async () => {
    const guard = guardFor({ limits: { maxIdenticalToolCalls: 2 } });
    const run = await guard.startRun({ agent: 'bot' });
    const executed: string[] = [];
    const agent = new Agent({ name: 'support', model: 'gpt-test', tools: guardAgentTools([searchTool(executed)], run, { toolServer: 'demo' }) });
    const error = await rejection(
      runnerFor(run, { toolServer: 'demo', proposedToolCalls: 'allow' }).run(agent, '[sim:tool_loop] Where is my order?', { maxTurns: 50 }),
    );
    expect(error).toBeInstanceOf(ToolCallError);
    expect((error as InstanceType<typeof ToolCallError>).error).toBeInstanceOf(GuardStopError);
    expect(findGuardError(error)?.code).toBe('loop.repeated_tool_call');
    expect(executed).toHaveLength(2);
  });

  it('a forbidden tool proposed by the model is refused with policy.denied; the tool never runs', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const deleted: string[] = [];
    const deleteFile = tool({
      name: 'delete_file',
      description: 'Delete a file',
      parameters: z.object({ path: z.string(), recursive: z.boolean() }),
      execute: async ({ path }) => void deleted.push(path),
    });
    const agent = new Agent({ name: 'janitor', model: 'gpt-test', tools: [deleteFile] });
    const error = await rejection(runnerFor(run).run(agent, '[sim:forbidden_tool] Tidy up the workspace.'));
    expect(error).toBeInstanceOf(GuardStopError);
    expect((error as InstanceType<typeof GuardStopError>).code).toBe('policy.denied');
    expect(deleted).toEqual([]);
  });

  it('with guarded tools the forbidden call is refused by the input guardrail and the model is told why', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const deleted: string[] = [];
    const deleteFile = tool({
      name: 'delete_file',
      description: 'Delete a file',
      parameters: z.object({ path: z.string() }),
      execute: async ({ path }) => void deleted.push(path),
    });
    const agent = new Agent({ name: 'janitor', model: 'gpt-test', tools: guardAgentTools([deleteFile], run, { toolServer: 'demo' }) });
    const result = await runnerFor(run, { toolServer: 'demo', proposedToolCalls: 'allow' }).run(agent, '[sim:tool_call delete_file] Tidy up.');
    expect(deleted).toEqual([]);
    const output = result.newItems.find((item) => item.type === 'tool_call_output_item');
    expect(JSON.stringify(output?.rawItem)).toContain('policy.denied');
    expect(typeof result.finalOutput).toBe('string');
    expect((await run.usage()).toolCalls).toBe(0);
  });

  it('a streamed run is cut by a kill: the stream ends with GuardStopError kill.switch', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const agent = new Agent({ name: 'writer', model: 'gpt-test' });
    const result = await runnerFor(run).run(agent, '[sim:long 100000] Write everything you know.', { stream: true });
    let text = '';
    const error = await rejection(
      (async () => {
        for await (const delta of result.toTextStream()) {
          text += delta;
          if (text.length > 200 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'operator pressed stop');
        }
        await result.completed;
        if (result.error) throw result.error;
      })(),
    );
    expect(error).toBeInstanceOf(GuardStopError);
    expect((error as InstanceType<typeof GuardStopError>).code).toBe('kill.switch');
    expect(text.length).toBeGreaterThan(200);
    // The simulated model saw its request aborted, well before 100,000 tokens.
    await expect.poll(() => sim.sim.aborts.length).toBeGreaterThan(0);
    const used = await run.usage();
    expect(used.steps).toBe(1);
    expect(used.outputTokens).toBeGreaterThan(0);
    expect(used.outputTokens).toBeLessThan(100_000);
  });

  it('spend is recorded exactly as the gateway records it: the usage each response reported, at the price table', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const agent = new Agent({ name: 'support', model: 'gpt-test', tools: guardAgentTools([searchTool([])], run, { toolServer: 'demo' }) });
    const runner = runnerFor(run);
    const first = await runner.run(agent, '[sim:tool_call search] Find the refund policy.');
    const second = await runner.run(agent, 'Summarise it.', { stream: true });
    await second.completed;
    const responses = [...first.rawResponses, ...second.rawResponses];
    expect(responses).toHaveLength(3);
    const calls = responses.map((r) => ({ inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens }));
    expect(calls.every((c) => c.inputTokens > 0 && c.outputTokens > 0)).toBe(true);
    const used = await run.usage();
    expect(used.steps).toBe(3);
    expect(used.inputTokens).toBe(calls.reduce((s, c) => s + c.inputTokens, 0));
    expect(used.outputTokens).toBe(calls.reduce((s, c) => s + c.outputTokens, 0));
    expect(used.costUsd).toBe(costUsd(calls));
  });
});
