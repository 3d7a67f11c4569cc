/**
 * fmguard's SDK stopping runaway agents against the simulated model.
 *
 *   npm start            (or: npx tsx examples/runaway-agent.ts [config.yaml])
 *
 * Each scenario runs an ordinary agent loop — ask the model, run the tools it asks for, repeat — that
 * would never stop on its own. fmguard stops each one and says why.
 */
import { fileURLToPath } from 'node:url';
import { createGuard, GuardError, loadConfigFile, type ChatMessage, type ChatTool, type Guard, type Run } from '../src/index.ts';

const searchTool: ChatTool = {
  type: 'function',
  function: { name: 'search', description: 'Search the knowledge base', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
};

/** A typical agent loop with no stopping condition of its own. */
async function agentLoop(run: Run, model: string, prompt: string): Promise<never> {
  const messages: ChatMessage[] = [{ role: 'user', content: prompt }];
  for (;;) {
    const { response } = await run.callModel({ model, messages, tools: [searchTool] });
    const message = response.choices[0]!.message;
    messages.push({ role: 'assistant', content: message.content, tool_calls: message.tool_calls });
    if (!message.tool_calls?.length) {
      messages.push({ role: 'user', content: 'Good start. Make it better.' });
      continue;
    }
    for (const call of message.tool_calls) {
      const { result } = await run.callTool({
        tool: `demo.${call.function.name}`,
        args: JSON.parse(call.function.arguments || '{}') as unknown,
        execute: async (args, { signal }) => {
          signal.throwIfAborted();
          return `3 documents match ${JSON.stringify(args)}`;
        },
      });
      messages.push({ role: 'tool', tool_call_id: call.id, content: String(result) });
    }
  }
}

/** Read a whole stream, as a chat UI would. */
async function streamAnswer(run: Run, model: string, prompt: string): Promise<void> {
  const stream = await run.streamModel({ model, messages: [{ role: 'user', content: prompt }] });
  for await (const _chunk of stream);
}

interface Scenario {
  name: string;
  agent: string;
  play: (run: Run, guard: Guard) => Promise<unknown>;
}

const scenarios: Scenario[] = [
  { name: 'tool-call loop', agent: 'support-bot', play: (run) => agentLoop(run, 'sim-small', '[sim:tool_loop] Where is my order #1234?') },
  { name: 'endless refinement', agent: 'support-bot', play: (run) => agentLoop(run, 'sim-frontier', '[sim:refine] Draft a reply to this angry customer.') },
  { name: 'step limit', agent: 'support-bot', play: (run) => agentLoop(run, 'sim-small', '[sim:refine] Summarise our refund policy.') },
  { name: 'no progress', agent: 'research-bot', play: (run) => agentLoop(run, 'sim-large', '[sim:no_progress] Find the root cause.') },
  { name: 'forbidden tool', agent: 'support-bot', play: (run) => agentLoop(run, 'sim-small', '[sim:forbidden_tool] Tidy up the workspace.') },
  { name: 'stalled stream', agent: 'support-bot', play: (run) => streamAnswer(run, 'sim-small', '[sim:stall 5] Tell me a story.') },
  { name: 'failing provider', agent: 'support-bot', play: (run) => agentLoop(run, 'sim-small', '[sim:fail 1 503] Hello?') },
  {
    name: 'killed run',
    agent: 'research-bot',
    play: async (run, guard) => {
      setTimeout(() => void guard.kill(`run:${run.id}`, 'an operator pressed stop'), 300).unref();
      await streamAnswer(run, 'sim-large', '[sim:long 100000] Write everything you know.');
    },
  },
];

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

async function main(): Promise<void> {
  const configFile = process.argv[2] ?? fileURLToPath(new URL('../fmguard.example.yaml', import.meta.url));
  const guard = createGuard({ config: loadConfigFile(configFile) });
  console.log(`fmguard SDK example — config ${configFile}, store ${guard.config.store.kind}\n`);
  console.log(`${pad('scenario', 20)}${pad('stopped by', 25)}${pad('steps', 7)}${pad('cost USD', 11)}${pad('time', 9)}why`);
  console.log('-'.repeat(110));
  let unexpected = 0;
  for (const scenario of scenarios) {
    const run = await guard.startRun({ agent: scenario.agent });
    const started = performance.now();
    let code = 'none';
    let why = 'finished on its own';
    try {
      await scenario.play(run, guard);
      unexpected++;
    } catch (error) {
      if (!GuardError.isInstance(error)) throw error;
      code = error.code;
      why = error.message;
    }
    const ms = performance.now() - started;
    const usage = await run.usage();
    await run.end();
    console.log(
      `${pad(scenario.name, 20)}${pad(code, 25)}${pad(String(usage.steps), 7)}${pad(usage.costUsd.toFixed(6), 11)}${pad(`${ms.toFixed(0)} ms`, 9)}${why}`,
    );
  }
  await guard.close();
  if (unexpected > 0) process.exitCode = 1;
}

await main();
