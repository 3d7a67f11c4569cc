/**
 * fmguard inside the Vercel AI SDK: ordinary `generateText` / `streamText` agents, their model wrapped
 * with `guardMiddleware(run)`, their tools with `guardTools`, stopped with fmguard's codes.
 *
 *   npx tsx examples/ai-sdk-agent.ts
 *
 * The model is the AI SDK's OpenAI-compatible provider talking to fmguard's simulated model over HTTP
 * (swap in `openai('gpt-4o-mini')` from `@ai-sdk/openai` for the real one).
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel, type LanguageModel } from 'ai';
import { createGuard, type ConfigInput, type Run } from 'fmguard';
import { startSimServer } from 'fmguard/testing';
import { findGuardError, frameworkProvider, guardMiddleware, guardStopWhen, guardTools } from 'fmguard/ai-sdk';

const config: ConfigInput = {
  store: { kind: 'memory' },
  // The model's calls are made by the AI SDK: the provider is given in code (frameworkProvider below).
  providers: { app: { kind: 'simulated' } },
  models: { 'gpt-4o-mini': { provider: 'app', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  tenants: { acme: {} },
  agents: {
    'support-bot': { tenant: 'acme', limits: { maxSteps: 20, maxCostUsd: 0.05 }, allow: { models: ['*'], tools: ['demo.search'] } },
    'batch-bot': { tenant: 'acme', limits: { maxSteps: 6, maxIdenticalToolCalls: 100 }, allow: { models: ['*'], tools: ['demo.search'] } },
  },
};

const sim = await startSimServer();
const openai = createOpenAICompatible({ name: 'sim', baseURL: `${sim.url}/v1`, includeUsage: true });
const guard = createGuard({ config, providers: { app: frameworkProvider('app') } });

const tools = {
  search: tool({
    description: 'Search the knowledge base',
    inputSchema: jsonSchema<{ query: string }>({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }),
    execute: async ({ query }) => `3 documents match "${query}"`,
  }),
};

/** The agent's model under the run: one line. */
function modelFor(run: Run): LanguageModel {
  return wrapLanguageModel({ model: openai.chatModel('gpt-4o-mini'), middleware: guardMiddleware(run, { toolServer: 'demo' }) });
}

interface Scenario {
  name: string;
  agent: string;
  expect: string;
  play: (run: Run) => Promise<string | undefined>;
}

const scenarios: Scenario[] = [
  {
    name: 'tool-call loop',
    agent: 'support-bot',
    expect: 'loop.repeated_tool_call',
    play: async (run) => {
      await generateText({
        model: modelFor(run),
        tools: guardTools(tools, run, { toolServer: 'demo' }),
        stopWhen: stepCountIs(100),
        prompt: '[sim:tool_loop] Where is my order #1234?',
      });
      return undefined;
    },
  },
  {
    name: 'step limit (stopWhen)',
    agent: 'batch-bot',
    expect: 'limit.steps',
    play: async (run) => {
      const stopWhen = guardStopWhen(run);
      await generateText({
        model: modelFor(run),
        tools: guardTools(tools, run, { toolServer: 'demo' }),
        stopWhen: [stopWhen, stepCountIs(100)],
        prompt: '[sim:tool_loop] Index everything.',
      });
      return stopWhen.reason?.code;
    },
  },
  {
    name: 'forbidden tool',
    agent: 'support-bot',
    expect: 'policy.denied',
    play: async (run) => {
      const deleteFile = tool({
        description: 'Delete a file',
        inputSchema: jsonSchema({ type: 'object', properties: { path: { type: 'string' } } }),
        execute: async () => 'deleted',
      });
      await generateText({ model: modelFor(run), tools: { ...tools, delete_file: deleteFile }, prompt: '[sim:forbidden_tool] Tidy up the workspace.' });
      return undefined;
    },
  },
  {
    name: 'killed stream',
    agent: 'support-bot',
    expect: 'kill.switch',
    play: async (run) => {
      const result = streamText({ model: modelFor(run), prompt: '[sim:long 100000] Write everything you know.' });
      let text = '';
      for await (const delta of result.textStream) {
        text += delta;
        if (text.length > 500 && !run.signal.aborted) void guard.kill(`run:${run.id}`, 'an operator pressed stop');
      }
      return undefined;
    },
  },
  {
    name: 'an ordinary answer',
    agent: 'support-bot',
    expect: 'none',
    play: async (run) => {
      const result = await generateText({ model: modelFor(run), prompt: 'What is the refund policy?' });
      const { inputTokens = 0, outputTokens = 0 } = result.usage;
      const priced = (inputTokens * 0.15 + outputTokens * 0.6) / 1e6;
      const recorded = (await run.usage()).costUsd;
      if (Math.abs(priced - recorded) > 1e-9) throw new Error(`spend ${recorded} differs from the price table ${priced}`);
      return undefined;
    },
  },
];

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

console.log('fmguard inside the AI SDK (simulated model over HTTP)\n');
console.log(`${pad('scenario', 24)}${pad('stopped by', 26)}${pad('steps', 7)}${pad('cost USD', 11)}why`);
console.log('-'.repeat(110));
let unexpected = 0;
for (const scenario of scenarios) {
  const run = await guard.startRun({ agent: scenario.agent });
  let code = 'none';
  let why = 'finished on its own';
  try {
    const graceful = await scenario.play(run);
    if (graceful) [code, why] = [graceful, 'stopWhen ended the loop; generateText returned'];
  } catch (error) {
    const stop = findGuardError(error);
    if (!stop) throw error;
    [code, why] = [stop.code, stop.message];
  }
  if (code !== scenario.expect) unexpected++;
  const usage = await run.usage();
  await run.end();
  console.log(`${pad(scenario.name, 24)}${pad(code, 26)}${pad(String(usage.steps), 7)}${pad(usage.costUsd.toFixed(6), 11)}${why}`);
}
await guard.close();
await sim.close();
if (unexpected > 0) {
  console.log(`\n${unexpected} scenario(s) did not stop as expected`);
  process.exitCode = 1;
}
