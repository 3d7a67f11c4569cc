/**
 * fmguard inside the OpenAI Agents SDK: the runner's model provider wrapped with
 * `guardModelProvider(provider, run)`, the agent's tools with `guardAgentTools` (tool input guardrails
 * from fmguard's policy and loop detectors), `maxTurns` from the run's step limit.
 *
 *   npx tsx examples/openai-agents.ts
 *
 * The model is the SDK's own Chat Completions model with the official `openai` client, talking to
 * fmguard's simulated model over HTTP (drop `openAIClient` to talk to OpenAI).
 */
import { Agent, Runner, tool } from '@openai/agents';
import { OpenAIProvider } from '@openai/agents-openai';
import OpenAI from 'openai';
import { z } from 'zod';
import { createGuard, type ConfigInput, type Run } from 'fmguard';
import { startSimServer } from 'fmguard/testing';
import { findGuardError, frameworkProvider, guardAgentTools, guardModelProvider, maxTurnsFor } from 'fmguard/openai-agents';

const config: ConfigInput = {
  store: { kind: 'memory' },
  providers: { app: { kind: 'simulated' } }, // served by the Agents SDK's model (frameworkProvider below)
  models: { 'gpt-4.1-mini': { provider: 'app', inputPerMTok: 0.4, outputPerMTok: 1.6 } },
  tenants: { acme: {} },
  agents: {
    'support-bot': { tenant: 'acme', limits: { maxSteps: 20 }, allow: { models: ['*'], tools: ['demo.search'] } },
    'batch-bot': { tenant: 'acme', limits: { maxSteps: 5, maxIdenticalToolCalls: 100 }, allow: { models: ['*'], tools: ['demo.search'] } },
  },
};

const sim = await startSimServer({ model: { tokensPerSecond: 20_000 } });
const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-simulated', maxRetries: 0 });
const guard = createGuard({ config, providers: { app: frameworkProvider('app') } });

const search = tool({
  name: 'search',
  description: 'Search the knowledge base',
  parameters: z.object({ query: z.string() }),
  execute: async ({ query }) => `3 documents match "${query}"`,
});

/** The runner for a run: its model provider under the run. */
function runnerFor(run: Run, proposedToolCalls: 'refuse' | 'allow' = 'refuse'): Runner {
  const provider = new OpenAIProvider({ openAIClient: openai, useResponses: false });
  return new Runner({ modelProvider: guardModelProvider(provider, run, { toolServer: 'demo', proposedToolCalls }), tracingDisabled: true });
}

function agentFor(run: Run, extraTools: Parameters<typeof guardAgentTools>[0] = []): Agent {
  return new Agent({
    name: 'support',
    instructions: 'Answer from the knowledge base.',
    model: 'gpt-4.1-mini',
    tools: guardAgentTools([search, ...extraTools], run, { toolServer: 'demo' }),
  });
}

interface Scenario {
  name: string;
  agent: string;
  expect: string;
  play: (run: Run) => Promise<void>;
}

const scenarios: Scenario[] = [
  {
    name: 'tool-call loop',
    agent: 'support-bot',
    expect: 'loop.repeated_tool_call',
    play: async (run) => void (await runnerFor(run).run(agentFor(run), '[sim:tool_loop] Where is my order?', { maxTurns: await maxTurnsFor(run) })),
  },
  {
    name: 'step limit',
    agent: 'batch-bot',
    expect: 'limit.steps',
    play: async (run) => void (await runnerFor(run, 'allow').run(agentFor(run), '[sim:tool_loop] Index everything.', { maxTurns: await maxTurnsFor(run) })),
  },
  {
    name: 'forbidden tool',
    agent: 'support-bot',
    expect: 'policy.denied',
    play: async (run) => {
      const deleteFile = tool({
        name: 'delete_file',
        description: 'Delete a file',
        parameters: z.object({ path: z.string(), recursive: z.boolean() }),
        execute: async () => 'deleted',
      });
      await runnerFor(run).run(agentFor(run, [deleteFile]), '[sim:forbidden_tool] Tidy up the workspace.');
    },
  },
  {
    name: 'killed stream',
    agent: 'support-bot',
    expect: 'kill.switch',
    play: async (run) => {
      const result = await runnerFor(run).run(agentFor(run), '[sim:long 100000] Write everything you know.', { stream: true });
      let text = '';
      for await (const delta of result.toTextStream()) {
        text += delta;
        if (text.length > 500 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'an operator pressed stop');
      }
      await result.completed;
      if (result.error) throw result.error;
    },
  },
  {
    name: 'an ordinary answer',
    agent: 'support-bot',
    expect: 'none',
    play: async (run) => void (await runnerFor(run).run(agentFor(run), 'What is the refund policy?')),
  },
];

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

console.log('fmguard inside the OpenAI Agents SDK (simulated model over HTTP)\n');
console.log(`${pad('scenario', 22)}${pad('stopped by', 26)}${pad('SDK error', 22)}${pad('steps', 7)}${pad('cost USD', 11)}why`);
console.log('-'.repeat(120));
let unexpected = 0;
for (const scenario of scenarios) {
  const run = await guard.startRun({ agent: scenario.agent });
  let code = 'none';
  let sdkError = '-';
  let why = 'finished on its own';
  try {
    await scenario.play(run);
  } catch (error) {
    const stop = findGuardError(error);
    if (!stop) throw error;
    [code, sdkError, why] = [stop.code, (error as Error).constructor.name, stop.message];
  }
  if (code !== scenario.expect) unexpected++;
  const usage = await run.usage();
  await run.end();
  console.log(`${pad(scenario.name, 22)}${pad(code, 26)}${pad(sdkError, 22)}${pad(String(usage.steps), 7)}${pad(usage.costUsd.toFixed(6), 11)}${why}`);
}
await guard.close();
await sim.close();
if (unexpected > 0) {
  console.log(`\n${unexpected} scenario(s) did not stop as expected`);
  process.exitCode = 1;
}
