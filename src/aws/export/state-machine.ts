import type { AccessOracle } from './access.ts';
import { toolTaskResource } from './arn.ts';
import type { AwsModel, AwsTool, Inventory } from './inventory.ts';
import type { ExportReport } from './report.ts';
import { aslErrorNames, aslRetry, modelCatchers, stopStateName, toolCatchers, type AslCatcher, type AslRetrier, type TaskKind } from './retry.ts';
import { CATCHABLE_CODES, catchEntryMatches, type Catcher, type ResolvedAgent, type StopCode } from './sources.ts';

/** The placeholder the template fills with the agent-loop function's ARN (DefinitionSubstitutions). */
export const LOOP_FUNCTION_PLACEHOLDER = '${AgentLoopFunctionArn}';

/** The optimized Step Functions integration for Bedrock InvokeModel. */
export const BEDROCK_INVOKE_MODEL = 'arn:aws:states:::bedrock:invokeModel';

/** The limits the exported loop stops on, as its Choice rules test them. */
export const LOOP_STOP_CODES: StopCode[] = ['limit.duration', 'limit.steps', 'limit.tokens', 'limit.cost'];

export type AslState = Record<string, unknown>;

export interface AslStateMachine {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, AslState>;
}

/** A tool as the model sees it (OpenAI function shape) and the fmguard tool it routes to. */
export interface LoopTool {
  /** The function name given to the model (the tool's name on its server, made safe). */
  modelName: string;
  tool: AwsTool;
}

export interface AgentLoopPlan {
  agent: ResolvedAgent;
  model: AwsModel;
  tools: LoopTool[];
  /** Every Bedrock model the agent may use (a catcher's `next` must be one of them to be exported). */
  models?: AwsModel[];
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The InvokeModel body format of a model family (see the agent-loop function). */
export function modelFamily(modelId: string): 'anthropic' | 'converse' {
  return /(^|\.|\/)anthropic\./.test(modelId) ? 'anthropic' : 'converse';
}

/**
 * What an agent's exported loop runs: the first Bedrock model (in config order) the agent may use,
 * and the Lambda tools it may call. Undefined (and reported) when it may use no Bedrock model.
 */
export function planAgentLoop(agent: ResolvedAgent, inv: Inventory, oracle: AccessOracle, report: ExportReport): AgentLoopPlan | undefined {
  const models = inv.models.filter((m) => oracle.decide(agent.name, 'invokeModel', m.name).effect === 'allow');
  if (models.length === 0) {
    report.add({
      area: 'step-functions',
      agent: agent.name,
      subject: 'agent loop',
      message: 'the agent may use no Bedrock model: no state machine is exported',
    });
    return undefined;
  }
  const model = models[0]!;
  if (models.length > 1) {
    report.add({
      area: 'step-functions',
      agent: agent.name,
      subject: 'agent loop',
      message: `the loop calls ${model.name}, the first Bedrock model the agent may use; the others (${models
        .slice(1)
        .map((m) => m.name)
        .join(', ')}) stay allowed in IAM`,
    });
  }
  if (modelFamily(model.modelId) === 'converse' && !/amazon\.nova/.test(model.modelId)) {
    report.add({
      area: 'bedrock',
      agent: agent.name,
      subject: `model ${model.name}`,
      message: `InvokeModel bodies are model-specific; the loop writes Anthropic Claude or Amazon Nova (messages-v1) bodies, and ${model.modelId} is neither: check its body format`,
    });
  }
  const tools: LoopTool[] = [];
  const taken = new Set<string>();
  for (const tool of inv.tools) {
    if (oracle.decide(agent.name, 'callTool', tool.name).effect !== 'allow') continue;
    let modelName = tool.tool.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
    if (taken.has(modelName)) modelName = `${tool.server}_${tool.tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
    if (taken.has(modelName)) {
      report.add({
        area: 'step-functions',
        agent: agent.name,
        subject: `tool ${tool.name}`,
        message: `its name clashes with another tool the agent may call: left out of the loop`,
      });
      continue;
    }
    taken.add(modelName);
    tools.push({ modelName, tool });
  }
  return { agent, model, tools, models };
}

/** Settings the agent-loop function works with: prices, limits, the model and the tools. */
export function loopSettings(plan: AgentLoopPlan) {
  const { agent, model } = plan;
  const l = agent.limits;
  return {
    agent: agent.name,
    model: {
      name: model.name,
      id: model.modelId,
      family: modelFamily(model.modelId),
      ...(model.model.maxOutputTokens !== undefined ? { maxOutputTokens: model.model.maxOutputTokens } : {}),
    },
    price: {
      inputPerMTok: model.model.inputPerMTok,
      outputPerMTok: model.model.outputPerMTok,
      ...(model.model.cachedInputPerMTok !== undefined ? { cachedInputPerMTok: model.model.cachedInputPerMTok } : {}),
    },
    limits: {
      maxCostNano: Math.round(l.maxCostUsd * 1e9),
      maxOutputTokensPerCall: l.maxOutputTokensPerCall,
      maxTotalTokens: l.maxTotalTokens,
      ...(l.maxInputTokens !== undefined ? { maxInputTokens: l.maxInputTokens } : {}),
      ...(l.maxOutputTokens !== undefined ? { maxOutputTokens: l.maxOutputTokens } : {}),
      maxDurationMs: l.maxDurationMs,
    },
    tools: plan.tools.map(({ modelName, tool }) => ({
      type: 'function',
      function: {
        name: modelName,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.inputSchema ?? { type: 'object', properties: {} },
      },
    })),
  };
}

/** Retries for the agent-loop function itself (Lambda's transient errors), as AWS recommends. */
const LAMBDA_SERVICE_RETRY = [
  {
    ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
    IntervalSeconds: 1,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

/** A Fail state: the stop code as its Error. (The step counter is in the state's input, in the execution history.) */
function fail(code: StopCode, cause: string): AslState {
  return { Type: 'Fail', Error: code, Cause: cause };
}

/** The catchable codes a task of this kind fails with in fmguard: a tool has no model timeouts, a model no tool timeout. */
function catchableFor(kind: TaskKind): StopCode[] {
  return CATCHABLE_CODES.filter((code) => (kind === 'model' ? code !== 'timeout.tool' : !MODEL_TIMEOUTS.has(code)));
}

const MODEL_TIMEOUTS = new Set<StopCode>(['timeout.total', 'timeout.first_token', 'timeout.idle']);

/** One config catcher as ASL: the codes it catches (fmguard's reading) and their error names for this task; undefined when nothing is left (reported). */
function translateCatcher(c: Catcher, kind: TaskKind, add: (message: string) => void): { codes: StopCode[]; names: string[] } | undefined {
  // `all` is the list of catchable errors, never States.ALL (which would also catch a ValidationException, vector S8).
  const codes = catchableFor(kind).filter((code) => c.errorEquals.some((e) => catchEntryMatches(e, code)));
  const names = [...new Set(codes.flatMap((code) => aslErrorNames(code, kind)))];
  const dropped = codes.filter((code) => aslErrorNames(code, kind).length === 0);
  const task = kind === 'model' ? 'a Bedrock task' : 'a Lambda task';
  if (dropped.length > 0) add(`${dropped.join(', ')} never comes out of ${task} (fmguard-only)`);
  if (names.length === 0) {
    add(`catches ${c.errorEquals.join(', ')}, which ${task} never raises: not exported`);
    return undefined;
  }
  return { codes, names };
}

/**
 * Catchers from the config's `catch:` on the model (routing to a fallback model), once the config
 * has them; until then none, and a model error after retries ends the run with its stop code.
 */
export function configModelCatchers(plan: AgentLoopPlan, report?: ExportReport, model: AwsModel = plan.model): AslCatcher[] {
  const out: AslCatcher[] = [];
  const catchers = (model.model.catch as Catcher[] | undefined) ?? [];
  catchers.forEach((c, i) => {
    const source = `models.${model.name}.catch[${i}]`;
    const add = (message: string) =>
      report?.add({ area: 'step-functions', agent: plan.agent.name, subject: `model ${model.name} catcher ${i}`, message, source });
    const next = (plan.models ?? [plan.model]).find((m) => m.name === c.next);
    if (!next) return add(`routes to ${c.next}, which is not a Bedrock model the agent may use: not exported`);
    const t = translateCatcher(c, 'model', add);
    // ResultPath keeps the state (the step counter) beside the error (reference §1, vector S9).
    if (t) out.push({ ErrorEquals: t.names, Next: fallbackCountState(next.name), ResultPath: '$.error' });
  });
  return out;
}

/** A tool task's state name inside the CallTools Map. */
export function toolStateName(tool: string): string {
  return `Tool ${tool}`.slice(0, 80);
}

/**
 * The errors `States.TaskFailed` (a Lambda tool's `upstream.error`) also matches that are other codes
 * in fmguard: the function's own timeout (`timeout.tool`) and a throttle (`rate.limited`).
 */
const TASK_FAILED_ALSO: ReadonlyArray<{ code: StopCode; name: string }> = [
  { code: 'timeout.tool', name: 'Sandbox.Timedout' },
  { code: 'rate.limited', name: 'Lambda.TooManyRequestsException' },
];

/**
 * Catchers from the config's `catch:` on a tool: a matching error after the tool's retries routes to
 * the fallback tool's task (`next`), in the same Map iteration, which gets the same arguments
 * (`ResultPath: $.error` keeps the item beside the error, vector S9) and has its own Retry and Catch,
 * as in fmguard. The fallback must be a Lambda tool the agent may call, else the catcher is reported.
 * `upstream.error` is `States.TaskFailed`, which also matches `Sandbox.Timedout` and
 * `Lambda.TooManyRequestsException`: when the catcher does not catch their codes, a catcher before it
 * sends them where fmguard would (a later catcher that catches the code, or the built-in stop), so the
 * export catches exactly what fmguard catches.
 */
export function configToolCatchers(plan: AgentLoopPlan, tool: AwsTool, report?: ExportReport): AslCatcher[] {
  const translated = tool.catch.map((c, i) => {
    const add = (message: string) =>
      report?.add({
        area: 'step-functions',
        agent: plan.agent.name,
        subject: `tool ${tool.name} catcher ${i}`,
        message,
        source: `toolServers.${tool.server}.tools.${tool.tool}.catch[${i}]`,
      });
    const next = plan.tools.find((t) => t.tool.name === c.next);
    if (!next) {
      add(`routes to ${c.next}, which is not a Lambda tool the agent may call: not exported`);
      return undefined;
    }
    const t = translateCatcher(c, 'tool', add);
    return t && { ...t, next: toolStateName(next.tool.name) };
  });
  const builtin = toolCatchers();
  const out: AslCatcher[] = [];
  const covered = new Set<string>();
  translated.forEach((t, i) => {
    if (!t) return;
    if (t.names.includes('States.TaskFailed')) {
      for (const { code, name } of TASK_FAILED_ALSO) {
        if (t.codes.includes(code) || covered.has(name)) continue;
        const later = translated.slice(i + 1).find((l) => l?.codes.includes(code));
        const next = later?.next ?? builtin.find((b) => b.ErrorEquals.includes(name) || b.ErrorEquals.includes('States.ALL'))!.Next;
        out.push({ ErrorEquals: [name], Next: next, ResultPath: '$.error' });
        covered.add(name);
      }
    }
    const names = t.names.filter((n) => !covered.has(n));
    if (names.length === 0) return;
    for (const n of names) covered.add(n);
    out.push({ ErrorEquals: names, Next: t.next, ResultPath: '$.error' });
  });
  return out;
}

function fallbackCountState(model: string): string {
  return `CountStep ${model}`;
}

function fallbackInvokeState(model: string): string {
  return `InvokeModel ${model}`;
}

/** The states of the fallback models the config's catchers route to (each counted as a step, as in fmguard), each model once. */
function fallbackStates(plan: AgentLoopPlan, report: ExportReport, retry: AslRetrier[], timeoutSeconds: number): Record<string, AslState> {
  const states: Record<string, AslState> = {};
  const seen = new Set<string>([plan.model.name]);
  const queue = [plan.model];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const c of (from.model.catch as Catcher[] | undefined) ?? []) {
      const next = (plan.models ?? []).find((m) => m.name === c.next);
      if (!next || seen.has(next.name)) continue;
      seen.add(next.name);
      queue.push(next);
      states[fallbackCountState(next.name)] = {
        Type: 'Pass',
        Comment: `A catcher of ${from.name} routes here: the fallback is a model call of its own, and counts as a step.`,
        Parameters: { 'steps.$': 'States.MathAdd($.steps, 1)', 'account.$': '$.account' },
        Next: fallbackInvokeState(next.name),
      };
      states[fallbackInvokeState(next.name)] = {
        Type: 'Task',
        Comment: `Bedrock ${next.modelId}, the fallback of ${from.name} (models.${from.name}.catch).`,
        Resource: BEDROCK_INVOKE_MODEL,
        Parameters: { ModelId: next.modelId, ContentType: 'application/json', Accept: 'application/json', 'Body.$': '$.account.body' },
        ResultSelector: { 'body.$': '$.Body' },
        ResultPath: '$.model',
        TimeoutSeconds: timeoutSeconds,
        ...(retry.length > 0 ? { Retry: retry } : {}),
        Catch: modelCatchers(configModelCatchers(plan, report, next)),
        Next: 'Account',
      };
    }
  }
  return states;
}

/**
 * The agent loop as an Amazon States Language state machine:
 * Init → Check (Choice: limit.duration, done, limit.steps, limit.tokens, limit.cost) → CountStep
 * (MathAdd) → InvokeModel (Bedrock, with the agent's Retry translated and its stop codes as Catch) →
 * Account (cost from the reported usage) → CallTools (Map: one Lambda task per tool, with its timeout
 * and retries) → AddResults → Check. Fail states carry fmguard's stop codes as their Error.
 */
export function agentStateMachine(plan: AgentLoopPlan, report: ExportReport): AslStateMachine {
  const { agent, model } = plan;
  const limits = agent.limits;
  const modelRetry = aslRetry(agent.retry, 'model', report, agent.name);
  const loopTask = (op: string, parameters: Record<string, unknown>, next: string): AslState => ({
    Type: 'Task',
    Resource: LOOP_FUNCTION_PLACEHOLDER,
    Parameters: { op, ...parameters },
    ResultPath: '$.account',
    Retry: LAMBDA_SERVICE_RETRY,
    Next: next,
  });

  const toolStates: Record<string, AslState> = {};
  const routes: AslState[] = [];
  for (const { modelName, tool } of plan.tools) {
    const state = toolStateName(tool.name);
    routes.push({ Variable: '$.name', StringEquals: modelName, Next: state });
    // A tool's own retriers (only an idempotent tool has any), never the agent's model retriers.
    const toolRetry = aslRetry(tool.retry, 'tool', report, agent.name, `toolServers.${tool.server}.tools.${tool.tool}.retry`);
    toolStates[state] = {
      Type: 'Task',
      Comment: `fmguard tool ${tool.name} on Lambda`,
      Resource: toolTaskResource(tool.mapping, tool.lambdaArn),
      Parameters: { tool: tool.name, 'arguments.$': '$.arguments', 'id.$': '$.id' },
      ResultPath: '$.result',
      TimeoutSeconds: seconds(tool.timeoutMs ?? agent.timeouts.tool.totalMs),
      ...(toolRetry.length > 0 ? { Retry: toolRetry } : {}),
      Catch: toolCatchers(configToolCatchers(plan, tool, report)),
      End: true,
    };
  }

  const iterator: Record<string, AslState> = {
    RouteTool:
      routes.length > 0
        ? { Type: 'Choice', Choices: routes, Default: stopStateName('policy.denied', 'Tool') }
        : { Type: 'Pass', Next: stopStateName('policy.denied', 'Tool') },
    ...toolStates,
    // State names are unique in the whole machine, so the Map's own Fail states carry a prefix.
    [stopStateName('policy.denied', 'Tool')]: { Type: 'Fail', Error: 'policy.denied', Cause: 'the model called a tool this agent may not call on AWS' },
  };
  if (plan.tools.length > 0) {
    iterator[stopStateName('timeout.tool', 'Tool')] = { Type: 'Fail', Error: 'timeout.tool', Cause: 'a tool call ran past its timeout' };
    iterator[stopStateName('upstream.error', 'Tool')] = { Type: 'Fail', Error: 'upstream.error', Cause: 'a tool call failed after its retries' };
  }

  const states: Record<string, AslState> = {
    Init: {
      Type: 'Task',
      Comment: 'Start the conversation; the steps counter starts at 0.',
      Resource: LOOP_FUNCTION_PLACEHOLDER,
      Parameters: { op: 'start', 'input.$': '$', settings: loopSettings(plan) },
      ResultSelector: { steps: 0, 'account.$': '$' },
      Retry: LAMBDA_SERVICE_RETRY,
      Next: 'Check',
    },
    Check: {
      Type: 'Choice',
      Comment: "Stop before a model call the limits refuse, in fmguard's order.",
      Choices: [
        { Variable: '$.account.now', TimestampGreaterThanEqualsPath: '$.account.deadline', Next: stopStateName('limit.duration') },
        { Variable: '$.account.done', BooleanEquals: true, Next: 'Done' },
        { Variable: '$.steps', NumericGreaterThanEquals: limits.maxSteps, Next: stopStateName('limit.steps') },
        {
          And: [
            { Variable: '$.account.maxTokens', NumericLessThan: 1 },
            { Variable: '$.account.binding', StringEquals: 'limit.tokens' },
          ],
          Next: stopStateName('limit.tokens'),
        },
        { Variable: '$.account.maxTokens', NumericLessThan: 1, Next: stopStateName('limit.cost') },
      ],
      Default: 'CountStep',
    },
    CountStep: {
      Type: 'Pass',
      Comment: 'One more model call: a step counts when the call is made (a failed call too), as in fmguard.',
      Parameters: { 'steps.$': 'States.MathAdd($.steps, 1)', 'account.$': '$.account' },
      Next: 'InvokeModel',
    },
    InvokeModel: {
      Type: 'Task',
      Comment: `Bedrock ${model.modelId}, with agent ${agent.name}'s retry config.`,
      Resource: BEDROCK_INVOKE_MODEL,
      Parameters: { ModelId: model.modelId, ContentType: 'application/json', Accept: 'application/json', 'Body.$': '$.account.body' },
      ResultSelector: { 'body.$': '$.Body' },
      ResultPath: '$.model',
      TimeoutSeconds: seconds(agent.timeouts.model.totalMs),
      ...(modelRetry.length > 0 ? { Retry: modelRetry } : {}),
      Catch: modelCatchers(configModelCatchers(plan, report)),
      Next: 'Account',
    },
    Account: loopTask('afterModel', { 'account.$': '$.account', 'response.$': '$.model.body' }, 'HasToolCalls'),
    HasToolCalls: {
      Type: 'Choice',
      Choices: [{ Variable: '$.account.done', BooleanEquals: false, Next: 'CallTools' }],
      Default: 'Check',
    },
    CallTools: {
      Type: 'Map',
      Comment: "The tool calls of the model's answer, one after another.",
      ItemsPath: '$.account.toolCalls',
      MaxConcurrency: 1,
      Iterator: { StartAt: 'RouteTool', States: iterator },
      ResultPath: '$.toolResults',
      Next: 'AddResults',
    },
    AddResults: loopTask('afterTools', { 'account.$': '$.account', 'results.$': '$.toolResults' }, 'Check'),
    Done: { Type: 'Succeed' },
    [stopStateName('limit.duration')]: fail('limit.duration', `the run reached its time limit of ${limits.maxDurationMs} ms`),
    [stopStateName('limit.steps')]: fail('limit.steps', `the run reached its limit of ${limits.maxSteps} model calls`),
    [stopStateName('limit.tokens')]: fail('limit.tokens', "the run's token limit leaves no room for another model call"),
    [stopStateName('limit.cost')]: fail('limit.cost', `the run's cost limit of $${limits.maxCostUsd} leaves no room for another model call`),
    [stopStateName('rate.limited')]: fail('rate.limited', 'Bedrock throttled the model call after its retries'),
    [stopStateName('request.invalid')]: fail('request.invalid', 'Bedrock rejected the request'),
    [stopStateName('timeout.total')]: fail('timeout.total', 'the model call ran past its timeout after its retries'),
    [stopStateName('upstream.error')]: fail('upstream.error', 'the model call failed after its retries'),
    ...fallbackStates(plan, report, modelRetry, seconds(agent.timeouts.model.totalMs)),
  };

  reportLoopGaps(plan, report);
  return {
    Comment: `fmguard agent loop for agent ${agent.name} on ${model.modelId}: generated by fmguard export aws from the same config fmguard enforces`,
    StartAt: 'Init',
    // The execution's own limit: it cuts a call in flight at the deadline (States.Timeout), as
    // fmguard's run deadline does; the Choice stops between calls with limit.duration.
    TimeoutSeconds: seconds(limits.maxDurationMs),
    States: states,
  };
}

/** The limits and checks fmguard applies that the exported loop does not. */
function reportLoopGaps(plan: AgentLoopPlan, report: ExportReport): void {
  const { agent } = plan;
  const add = (subject: string, message: string) => report.add({ area: 'step-functions', agent: agent.name, subject, message });
  add(
    'tool timeouts',
    'TimeoutSeconds comes from the tool timeouts; HeartbeatSeconds is not set: fmguard has no heartbeat for tools, and a Lambda task sends none, so any value would fail calls that run longer',
  );
  add(
    'limits',
    `maxToolCalls (${agent.limits.maxToolCalls}), maxToolCallsPerTool, maxDepth, and loop detection (identical tool calls, identical outputs, consecutive errors) are enforced by fmguard only`,
  );
  if (agent.budgets.length > 0 || agent.rateLimits.requestsPerMinute !== undefined || agent.rateLimits.tokensPerMinute !== undefined) {
    add('budgets and rate limits', 'periodic budgets and rate limits span runs: use AWS Budgets actions and Bedrock quotas; not in the state machine');
  }
  add('retries', "the retry budget and retry-after (maxRetryAfterMs) of fmguard's retries have no Step Functions equivalent");
}
