/**
 * What the policy engine is built from (`PolicySpec`, mapped from the config by the config module)
 * and what it answers (`Decision`).
 */

/** Shorthand lists: names or `*` patterns. Tools are named `server.tool`. */
export interface AccessList {
  readonly models?: readonly string[];
  readonly tools?: readonly string[];
}

/**
 * Cedar policy text: a file path (read once at creation, relative to `PolicySpec.baseDir`), or a
 * named text (`name` is what problems and default policy ids refer to).
 */
export type PolicySource = string | { readonly name: string; readonly text: string };

export interface AgentPolicySpec {
  readonly id: string;
  readonly tenant: string;
  readonly allow?: AccessList;
  readonly deny?: AccessList;
  /** Permits that need a human approval before the call proceeds. */
  readonly approve?: AccessList;
  /** The agent's own Cedar files; their policies only ever apply to this agent. */
  readonly policies?: readonly PolicySource[];
  /** `shadow`: decisions are evaluated and reported, but the call goes through. Default `enforce`. */
  readonly mode?: 'enforce' | 'shadow';
  /** Cedar entity tags on the agent (`principal.getTag("team")`), e.g. claims of who runs it. */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ModelSpec {
  readonly name: string;
  readonly provider: string;
}

/** A JSON Schema (the subset fmguard maps to Cedar types: string, integer, number, boolean, array, object). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface ToolSpec {
  /** The tool's name on its server (MCP `tools/list` name); policies see it as `server.tool`. */
  readonly name: string;
  /** The tool's input JSON Schema; its properties become typed `context.input` attributes. */
  readonly inputSchema?: JsonSchema;
}

export interface ToolServerSpec {
  readonly name: string;
  readonly tools?: readonly ToolSpec[];
}

export interface PolicySpec {
  readonly agents: readonly AgentPolicySpec[];
  /** Org-wide policies (the SCP role): they apply to every agent. */
  readonly global?: readonly PolicySource[];
  /** The org's allow ceiling: a permit outside it is not effective (compiled to org-wide forbids). */
  readonly ceiling?: AccessList;
  readonly models?: readonly ModelSpec[];
  readonly toolServers?: readonly ToolServerSpec[];
  /** Where relative policy file paths are resolved; default the process's working directory. */
  readonly baseDir?: string;
}

/** Run counters and time every request carries. */
export interface RunContext {
  readonly runSteps: number;
  /** Spend so far in nano-dollars (core/money.ts); policies see `runCostMicroUsd`, rounded up. */
  readonly runCostNanoUsd: number;
  readonly runDepth: number;
  /** 0–23. */
  readonly hourUtc: number;
}

export interface ModelCallContext extends RunContext {
  /** Requested output tokens; when the request sets none, the most the call may produce. */
  readonly maxTokens: number;
  readonly stream: boolean;
}

export interface ToolCallContext extends RunContext {
  /** The tool call's arguments as the model sent them. */
  readonly input: Readonly<Record<string, unknown>>;
}

export type DecisionRequest =
  | { readonly agent: string; readonly action: 'invokeModel'; readonly resource: string; readonly context: ModelCallContext }
  | { readonly agent: string; readonly action: 'callTool'; readonly resource: string; readonly context: ToolCallContext };

export type PolicyAction = DecisionRequest['action'];

/**
 * Why a call was denied: a `forbid` matched; no `permit` matched (default deny, also for an unknown
 * agent); or a `forbid` could not be evaluated on this request's data (fail closed).
 */
export type DenyReason = 'forbid' | 'no-permit' | 'error';

interface DecisionBase {
  /** Ids of the policies that determined the decision (empty for default deny). */
  readonly policies: readonly string[];
  /** The agent is in shadow mode: the call proceeds whatever `effect` says. */
  readonly shadow: boolean;
  /** Policies that raised an evaluation error on this request (Cedar skips them; a forbid denies). */
  readonly errors?: readonly string[];
}

export type Decision =
  | (DecisionBase & { readonly effect: 'allow' })
  | (DecisionBase & { readonly effect: 'deny'; readonly reason: DenyReason })
  | (DecisionBase & { readonly effect: 'approval' });

export interface PolicyProblem {
  readonly severity: 'error' | 'warning';
  /** A file path, a named text, or a config path such as `agents.bot.allow.tools[1]`. */
  readonly source: string;
  /** 1-based, where the problem is inside a Cedar text. */
  readonly line?: number;
  readonly column?: number;
  readonly policyId?: string;
  readonly message: string;
  readonly help?: string;
}
