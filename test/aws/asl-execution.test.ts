import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { exportAws, type AslStateMachine } from '../../src/aws/export/index.ts';
import { anthropicBodyToChat, bedrockErrorName, chatToAnthropicResponse } from './bedrock-body.ts';
import { createGuard, createSimModel, FakeClock, parseConfig, type ChatRequest, type ConfigInput, type FmguardConfig } from './helpers.ts';

// aws-local-stepfunctions v3 calls Promise.withResolvers, which Node 22 has and Node 20 lacks.
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const { StateMachine } = await import('aws-local-stepfunctions');
const require = createRequire(import.meta.url);
const agentLoop = require('../../src/aws/export/lambda/agent-loop.cjs') as { createHandler: (clock?: () => number) => (event: unknown) => Promise<unknown> };

const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const LOOKUP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:crm-lookup';
const BACKUP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:crm-backup';
const PROMPT = 'Find the customer Ada Lovelace and summarise her account.';

interface Scenario {
  /** The simulated model's behaviour. */
  sim: string;
  limits?: Record<string, unknown>;
  retry?: unknown[];
  /** The tool's own retriers (it is then marked idempotent: a tool is retried only so). */
  toolRetry?: unknown[];
  timeouts?: Record<string, unknown>;
  price?: { inputPerMTok: number; outputPerMTok: number };
  /** How long (ms) each tool call takes on the shared clock. */
  toolAdvancesMs?: number;
  /** The tool never answers (it honours its signal / the task timeout). */
  toolHangs?: boolean;
  /** Use a fake clock (time-based scenarios) instead of the wall clock. */
  fakeClock?: boolean;
  /** The tool throws (a function error: fmguard's upstream.error, the task's States.TaskFailed). */
  toolFails?: boolean;
  /** On AWS the function's own timeout ends it first: the task fails with `Sandbox.Timedout` (fmguard: the tool hangs, timeout.tool). */
  functionTimesOut?: boolean;
  /** Catchers on crm.lookup; a second Lambda tool, crm.backup, is then declared as their fallback. */
  toolCatch?: unknown[];
}

function configFor(s: Scenario): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { aws: { kind: 'bedrock', region: 'us-east-1' } },
    models: { claude: { provider: 'aws', upstreamModel: MODEL_ID, ...(s.price ?? { inputPerMTok: 0.8, outputPerMTok: 4 }) } },
    toolServers: {
      crm: {
        kind: 'http',
        url: 'https://crm.example/mcp',
        tools: {
          lookup: {
            description: 'Look a customer up',
            inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
            aws: { lambda: LOOKUP_ARN },
            ...(s.toolRetry ? { idempotent: true, retry: s.toolRetry as never } : {}),
            ...(s.toolCatch ? { catch: s.toolCatch as never } : {}),
          },
          ...(s.toolCatch
            ? {
                backup: {
                  description: 'Look a customer up (replica)',
                  inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
                  aws: { lambda: BACKUP_ARN },
                },
              }
            : {}),
        },
      },
    },
    tenants: { acme: {} },
    agents: {
      bot: {
        tenant: 'acme',
        allow: { models: ['claude'], tools: ['crm.lookup', 'crm.backup'] },
        limits: { maxIdenticalToolCalls: 1000, maxIdenticalOutputs: 1000, ...s.limits },
        retry: (s.retry ?? []) as never,
        ...(s.timeouts ? { timeouts: s.timeouts } : {}),
      },
    },
  };
}

interface Outcome {
  /** `done`, or the stop code the run ended with. */
  end: string;
  /** Model calls made (a failed one included, a refused one not). */
  steps: number;
  modelCalls: number;
  toolCalls: number;
  /** Each tool call made: the tool and its arguments. */
  calls: string[];
  costNano?: number;
}

function lenientArguments(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text || '{}') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const TOOL_RESULT = { customer: 'Ada Lovelace', plan: 'enterprise', open_tickets: 2 };

/** The scenario through the fmguard SDK: a plain agent loop over run.callModel / run.callTool. */
async function runFmguard(config: FmguardConfig, s: Scenario, tools: ChatRequest['tools']): Promise<Outcome> {
  const clock = s.fakeClock ? new FakeClock() : undefined;
  const sim = createSimModel({ scenario: s.sim, ...(clock ? { clock } : {}) });
  let modelCalls = 0;
  sim.events.on('call', () => modelCalls++);
  const guard = createGuard({ config, providers: { aws: sim }, audit: false, ...(clock ? { clock } : {}) });
  let toolCalls = 0;
  const made: string[] = [];
  const run = await guard.startRun({ agent: 'bot' });
  const messages: ChatRequest['messages'] = [{ role: 'user', content: PROMPT }];
  let end = 'done';
  try {
    for (;;) {
      const { response } = await run.callModel({ model: 'claude', messages, tools });
      const message = response.choices[0]!.message;
      // A call cut by max_tokens can leave half a JSON object: the agent reads what parses (as the loop function does).
      const calls = message.tool_calls?.map((c) => ({
        ...c,
        function: { name: c.function.name, arguments: JSON.stringify(lenientArguments(c.function.arguments)) },
      }));
      messages.push({ role: 'assistant', content: message.content, ...(calls ? { tool_calls: calls } : {}) });
      if (!calls?.length) break;
      for (const call of calls) {
        const { result } = await run.callTool({
          tool: `crm.${call.function.name}`,
          args: JSON.parse(call.function.arguments) as Record<string, unknown>,
          execute: async (args, { signal, tool }) => {
            toolCalls++;
            made.push(`${tool} ${JSON.stringify(args)}`);
            if (tool === 'crm.backup') return TOOL_RESULT;
            if (s.toolFails) throw new Error('the CRM is down');
            if (s.toolHangs) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
            if (s.toolAdvancesMs) await clock!.advance(s.toolAdvancesMs);
            signal.throwIfAborted();
            return TOOL_RESULT;
          },
        });
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
      }
    }
  } catch (error) {
    end = (error as { code?: string }).code ?? String(error);
  }
  const usage = await run.usage();
  await guard.close();
  return { end, steps: usage.steps, modelCalls, toolCalls, calls: made, costNano: Math.round(usage.costUsd * 1e9) };
}

/** The exported state machine, executed by aws-local-stepfunctions with the same simulated model behind InvokeModel. */
async function runStateMachine(machine: AslStateMachine, s: Scenario): Promise<Outcome> {
  const clock = s.fakeClock ? new FakeClock() : undefined;
  const sim = createSimModel({ scenario: s.sim, ...(clock ? { clock } : {}) });
  const loop = agentLoop.createHandler(clock ? () => clock.now() : undefined);
  let modelCalls = 0;
  let toolCalls = 0;
  const calls: string[] = [];
  const definition = JSON.parse(
    JSON.stringify(machine).replaceAll('${AgentLoopFunctionArn}', 'arn:aws:lambda:us-east-1:123456789012:function:fmguard-agent-loop'),
  );
  const stateMachine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
  let lastAccount: { costNano?: number } | undefined;
  const loopHandler = async (input: unknown) => {
    const account = (await loop(input)) as { costNano: number };
    lastAccount = account;
    return account as never;
  };
  const execution = stateMachine.run(
    { messages: [{ role: 'user', content: PROMPT }] },
    {
      overrides: {
        taskResourceLocalHandlers: {
          Init: loopHandler,
          Account: loopHandler,
          AddResults: loopHandler,
          // What the bedrock:invokeModel integration returns: { Body, ContentType }, Body in the model's own format.
          InvokeModel: async (raw: unknown) => {
            const input = raw as { ModelId: string; Body: Record<string, unknown> };
            modelCalls++;
            try {
              const response = await sim.complete(anthropicBodyToChat(input.Body, input.ModelId), { signal: new AbortController().signal });
              return { Body: chatToAnthropicResponse(response), ContentType: 'application/json' } as never;
            } catch (error) {
              throw Object.assign(new Error((error as Error).message), { name: bedrockErrorName((error as { status?: number }).status ?? 500) });
            }
          },
          'Tool crm.lookup': async (input: unknown) => {
            toolCalls++;
            const { tool, arguments: args } = input as { tool: string; arguments: unknown };
            calls.push(`${tool} ${JSON.stringify(args)}`);
            // What a Lambda task raises for an unhandled function error: its errorType as the Error name.
            if (s.toolFails) throw Object.assign(new Error('the CRM is down'), { name: 'Error' });
            if (s.functionTimesOut) throw Object.assign(new Error('Task timed out after 1.00 seconds'), { name: 'Sandbox.Timedout' });
            if (s.toolHangs) return new Promise<never>(() => {});
            if (s.toolAdvancesMs) await clock!.advance(s.toolAdvancesMs);
            return TOOL_RESULT;
          },
          'Tool crm.backup': async (input: unknown) => {
            toolCalls++;
            const { tool, arguments: args } = input as { tool: string; arguments: unknown };
            calls.push(`${tool} ${JSON.stringify(args)}`);
            return TOOL_RESULT;
          },
        },
        // Step Functions waits whole seconds between retries; the count is what matters here.
        retryIntervalOverrides: { InvokeModel: 0, 'Tool crm.lookup': 0 },
      },
    },
  );
  // The step counter, as the execution history shows it: the input of the last top-level state entered.
  let steps = 0;
  const history = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{ type: string; state?: { input?: { steps?: unknown } } }>) {
      if (event.type === 'StateEntered' && typeof event.state?.input?.steps === 'number') steps = event.state.input.steps;
    }
  })();
  let end = 'done';
  try {
    await execution.result;
  } catch (error) {
    end = (error as { cause?: { name?: string } }).cause?.name ?? String(error);
  }
  await history.catch(() => {});
  return { end, steps, modelCalls, toolCalls, calls, costNano: lastAccount?.costNano };
}

async function both(s: Scenario): Promise<{ fmguard: Outcome; aws: Outcome }> {
  const config = parseConfig(configFor(s));
  const exported = exportAws(config, { account: '123456789012' });
  const machine = exported.stateMachines.bot!;
  // The same tools the state machine gives the model, for the SDK's agent loop.
  const tools = (machine.States.Init as { Parameters: { settings: { tools: ChatRequest['tools'] } } }).Parameters.settings.tools;
  const fmguard = await runFmguard(config, s, tools);
  const aws = await runStateMachine(machine, s);
  return { fmguard, aws };
}

describe('the exported state machine, executed (aws-local-stepfunctions), stops where fmguard stops', () => {
  it('a run that finishes: one tool call, then an answer; same steps, same cost', async () => {
    const { fmguard, aws } = await both({ sim: 'tool_call' });
    expect(fmguard).toMatchObject({ end: 'done', steps: 2, toolCalls: 1 });
    expect(aws).toEqual(fmguard);
  });

  it('limit.steps: a runaway tool loop is stopped before the (N+1)th model call', async () => {
    const { fmguard, aws } = await both({ sim: 'tool_loop', limits: { maxSteps: 4 } });
    expect(fmguard).toMatchObject({ end: 'limit.steps', steps: 4, modelCalls: 4, toolCalls: 4 });
    expect(aws).toEqual(fmguard);
  });

  it('limit.cost: stopped at the same step, the last call clamped to what the budget affords', async () => {
    const { fmguard, aws } = await both({ sim: 'tool_loop', limits: { maxSteps: 50, maxCostUsd: 0.004 }, price: { inputPerMTok: 3, outputPerMTok: 15 } });
    expect(fmguard.end).toBe('limit.cost');
    expect(fmguard.steps).toBeGreaterThan(2);
    expect(aws).toEqual(fmguard);
    expect(aws.costNano).toBeLessThanOrEqual(4_000_000);
  });

  it('limit.tokens: the run’s token limit, same step', async () => {
    const { fmguard, aws } = await both({ sim: 'tool_loop', limits: { maxSteps: 50, maxTotalTokens: 3000 } });
    expect(fmguard.end).toBe('limit.tokens');
    expect(fmguard.steps).toBeGreaterThan(1);
    expect(aws).toEqual(fmguard);
  });

  it('limit.duration: the time limit passes during a tool call; stopped after the same model call', async () => {
    const { fmguard, aws } = await both({
      sim: 'tool_loop',
      limits: { maxSteps: 50, maxDurationMs: 100_000 },
      timeouts: { tool: { totalMs: 60_000 } },
      toolAdvancesMs: 40_000,
      fakeClock: true,
    });
    expect(fmguard).toMatchObject({ end: 'limit.duration', steps: 3, toolCalls: 3 });
    expect(aws).toEqual(fmguard);
  });

  it('a tool the agent may not call: policy.denied, same step', async () => {
    const { fmguard, aws } = await both({ sim: 'forbidden_tool delete_file' });
    expect(fmguard).toMatchObject({ end: 'policy.denied', steps: 1, toolCalls: 0 });
    expect(aws).toEqual(fmguard);
  });

  it('a failing model: retried per the config, then upstream.error; the failed call counts as a step', async () => {
    const { fmguard, aws } = await both({ sim: 'fail 1 503', retry: [{ errorEquals: ['upstream.error'], intervalMs: 1000, maxAttempts: 2 }] });
    expect(fmguard).toMatchObject({ end: 'upstream.error', steps: 1, modelCalls: 3 });
    expect(aws).toEqual(fmguard);
  });

  it('a tool past its timeout: retried per the config, then timeout.tool', async () => {
    const s: Scenario = {
      sim: 'tool_loop',
      timeouts: { tool: { totalMs: 1000 } },
      toolRetry: [{ errorEquals: ['timeout.tool'], intervalMs: 1000, maxAttempts: 1 }],
      toolHangs: true,
    };
    const { fmguard, aws } = await both(s);
    expect(fmguard).toMatchObject({ end: 'timeout.tool', steps: 1, toolCalls: 2 });
    expect(aws).toEqual(fmguard);
  });
});

describe('tool catchers in the executed state machine route where fmguard routes', () => {
  const LOOKUP = `crm.lookup ${JSON.stringify({ query: PROMPT })}`;
  const BACKUP = `crm.backup ${JSON.stringify({ query: PROMPT })}`;
  const sim = 'tool_call lookup';

  it('a failing tool caught (upstream.error): the fallback tool gets the same arguments and the run finishes', async () => {
    const { fmguard, aws } = await both({ sim, toolFails: true, toolCatch: [{ errorEquals: ['upstream.error'], next: 'crm.backup' }] });
    expect(fmguard).toMatchObject({ end: 'done', steps: 2, toolCalls: 2, calls: [LOOKUP, BACKUP] });
    expect(aws).toEqual(fmguard);
  });

  it('a failing tool whose catchers do not match (timeout.tool only): not caught, upstream.error', async () => {
    const { fmguard, aws } = await both({ sim, toolFails: true, toolCatch: [{ errorEquals: ['timeout.tool'], next: 'crm.backup' }] });
    expect(fmguard).toMatchObject({ end: 'upstream.error', steps: 1, toolCalls: 1, calls: [LOOKUP] });
    expect(aws).toEqual(fmguard);
  });

  it('a tool past its timeout with an upstream.error catcher: not caught (States.TaskFailed never matches States.Timeout)', async () => {
    const s: Scenario = { sim, toolHangs: true, timeouts: { tool: { totalMs: 1000 } }, toolCatch: [{ errorEquals: ['upstream.error'], next: 'crm.backup' }] };
    const { fmguard, aws } = await both(s);
    expect(fmguard).toMatchObject({ end: 'timeout.tool', steps: 1, toolCalls: 1 });
    expect(aws).toEqual(fmguard);
  });

  it("the function's own timeout (Sandbox.Timedout, which States.TaskFailed matches) with an upstream.error catcher: not caught, timeout.tool", async () => {
    const s: Scenario = {
      sim,
      toolHangs: true,
      functionTimesOut: true,
      timeouts: { tool: { totalMs: 1000 } },
      toolCatch: [{ errorEquals: ['upstream.error'], next: 'crm.backup' }],
    };
    const { fmguard, aws } = await both(s);
    expect(fmguard).toMatchObject({ end: 'timeout.tool', steps: 1, toolCalls: 1, calls: [LOOKUP] });
    expect(aws).toEqual(fmguard);
  });

  it('a tool past its timeout caught (timeout.*): the fallback serves', async () => {
    const s: Scenario = { sim, toolHangs: true, timeouts: { tool: { totalMs: 1000 } }, toolCatch: [{ errorEquals: ['timeout.*'], next: 'crm.backup' }] };
    const { fmguard, aws } = await both(s);
    expect(fmguard).toMatchObject({ end: 'done', steps: 2, toolCalls: 2, calls: [LOOKUP, BACKUP] });
    expect(aws).toEqual(fmguard);
  });
});
