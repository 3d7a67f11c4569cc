/**
 * fmguard inside a LangChain.js agent: `createAgent({ model, tools, middleware: [guardMiddleware(run)] })`.
 *
 *   npx tsx examples/langchain-agent.ts
 *
 * The model is LangChain's `ChatOpenAI` talking to fmguard's simulated model over HTTP (drop
 * `configuration.baseURL` to talk to OpenAI). fmguard does the retrying, so the model's own is off.
 */
import { ChatOpenAI } from '@langchain/openai';
import { createAgent, tool } from 'langchain';
import { z } from 'zod';
import { createGuard, type ConfigInput, type Run } from 'fmguard';
import { startSimServer } from 'fmguard/testing';
import { findGuardError, frameworkProvider, guardMiddleware } from 'fmguard/langchain';

const config: ConfigInput = {
  store: { kind: 'memory' },
  providers: { app: { kind: 'simulated' } }, // served by LangChain's chat model (frameworkProvider below)
  models: { 'gpt-4o-mini': { provider: 'app', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: {} },
  agents: {
    'support-bot': { tenant: 'acme', limits: { maxSteps: 20 }, allow: { models: ['*'], tools: ['demo.search'] } },
    'batch-bot': { tenant: 'acme', limits: { maxSteps: 5, maxIdenticalToolCalls: 100 }, allow: { models: ['*'], tools: ['demo.search'] } },
  },
};

const sim = await startSimServer({ model: { tokensPerSecond: 20_000 } });
const guard = createGuard({ config, providers: { app: frameworkProvider('app') } });
const model = new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-simulated', configuration: { baseURL: `${sim.url}/v1` }, maxRetries: 0 });

const search = tool(async ({ query }) => `3 documents match "${query}"`, {
  name: 'search',
  description: 'Search the knowledge base',
  schema: z.object({ query: z.string() }),
});
const deleteFile = tool(async () => 'deleted', {
  name: 'delete_file',
  description: 'Delete a file',
  schema: z.object({ path: z.string(), recursive: z.boolean() }),
});

/** The agent under the run: one middleware. */
function agentFor(run: Run, options: Parameters<typeof guardMiddleware>[1] = {}) {
  return createAgent({ model, tools: [search, deleteFile], middleware: [guardMiddleware(run, { toolServer: 'demo', ...options })] });
}

const ask = (text: string) => ({ messages: [{ role: 'user', content: text }] });

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
    play: async (run) => void (await agentFor(run).invoke(ask('[sim:tool_loop] Where is my order?'), { recursionLimit: 200 })),
  },
  {
    name: 'step limit',
    agent: 'batch-bot',
    expect: 'limit.steps',
    play: async (run) => void (await agentFor(run, { proposedToolCalls: 'allow' }).invoke(ask('[sim:tool_loop] Index everything.'), { recursionLimit: 200 })),
  },
  {
    name: 'forbidden tool',
    agent: 'support-bot',
    expect: 'policy.denied',
    play: async (run) => void (await agentFor(run).invoke(ask('[sim:forbidden_tool] Tidy up the workspace.'))),
  },
  {
    name: 'killed stream',
    agent: 'support-bot',
    expect: 'kill.switch',
    play: async (run) => {
      let text = '';
      for await (const [chunk] of await agentFor(run).stream(ask('[sim:long 100000] Write everything you know.'), { streamMode: 'messages' })) {
        text += typeof chunk.content === 'string' ? chunk.content : '';
        if (text.length > 500 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'an operator pressed stop');
      }
    },
  },
  {
    name: 'an ordinary answer',
    agent: 'support-bot',
    expect: 'none',
    play: async (run) => void (await agentFor(run).invoke(ask('What is the refund policy?'))),
  },
];

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

console.log('fmguard inside a LangChain agent (simulated model over HTTP)\n');
console.log(`${pad('scenario', 22)}${pad('stopped by', 26)}${pad('steps', 7)}${pad('cost USD', 11)}why`);
console.log('-'.repeat(110));
let unexpected = 0;
for (const scenario of scenarios) {
  const run = await guard.startRun({ agent: scenario.agent });
  let code = 'none';
  let why = 'finished on its own';
  try {
    await scenario.play(run);
  } catch (error) {
    const stop = findGuardError(error);
    if (!stop) throw error;
    [code, why] = [stop.code, stop.message];
  }
  if (code !== scenario.expect) unexpected++;
  const usage = await run.usage();
  await run.end();
  console.log(`${pad(scenario.name, 22)}${pad(code, 26)}${pad(String(usage.steps), 7)}${pad(usage.costUsd.toFixed(6), 11)}${why}`);
}
await guard.close();
await sim.close();
if (unexpected > 0) {
  console.log(`\n${unexpected} scenario(s) did not stop as expected`);
  process.exitCode = 1;
}
