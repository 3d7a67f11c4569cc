import { fingerprint } from '../core/canonical-json.ts';
import { validateRetriers } from '../core/retry.ts';
import { findCatchCycle, validateCatchers, type Catcher } from '../core/catch.ts';
import { validateAlarmConfig, type AlarmSpec, type CompositeSpec } from '../alarms/index.ts';
import type { BreakerPolicy } from '../breakers/index.ts';
import { DEFAULT_RESOLUTION_MS } from '../metrics/index.ts';
import { cataloguePrice, hasCatalogue, type PriceSource } from './price-catalogue.ts';
import type { ConfigProblem } from './problems.ts';
import type { AgentConfig, BudgetConfig, LimitsInput, ModelConfig, ParsedConfig, ProviderConfig, RateLimitsConfig, RetrierConfig } from './schema.ts';

/** Every run limit, all set: a run is never unbounded. */
export interface Limits {
  maxSteps: number;
  maxToolCalls: number;
  /** A cap for every tool, and per-tool overrides. */
  maxToolCallsPerTool: { default?: number; byTool: Record<string, number> };
  maxInputTokens?: number;
  maxOutputTokens?: number;
  maxTotalTokens: number;
  maxCostUsd: number;
  maxDurationMs: number;
  maxDepth: number;
  maxOutputTokensPerCall: number;
  maxIdenticalToolCalls: number;
  maxConsecutiveErrors: number;
  maxIdenticalOutputs: number;
}

/** Applied to every agent for any limit it does not set (default on for limits: a run is never unbounded). */
export const DEFAULT_LIMITS: Limits = {
  maxSteps: 50,
  maxToolCalls: 100,
  maxToolCallsPerTool: { byTool: {} },
  maxTotalTokens: 2_000_000,
  maxCostUsd: 1,
  maxDurationMs: 10 * 60_000,
  maxDepth: 3,
  maxOutputTokensPerCall: 4096,
  maxIdenticalToolCalls: 3,
  maxConsecutiveErrors: 3,
  maxIdenticalOutputs: 3,
};

export interface ModelTimeouts {
  totalMs: number;
  firstTokenMs: number;
  idleMs: number;
}

export interface Timeouts {
  model: ModelTimeouts;
  tool: { totalMs: number };
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  model: { totalMs: 120_000, firstTokenMs: 30_000, idleMs: 15_000 },
  tool: { totalMs: 30_000 },
};

/** Upstream throttles (`rate.limited`, e.g. Bedrock's ThrottlingException) are retried like failures. */
export const DEFAULT_RETRY: RetrierConfig[] = [
  { errorEquals: ['upstream.error', 'timeout.first_token', 'rate.limited'], intervalMs: 500, backoffRate: 2, maxAttempts: 2, maxDelayMs: 8000, jitter: 'full' },
];

/** CloudWatch Embedded Metric Format output (off unless configured). */
export interface EmfConfig {
  /** A file (appended to) or `-` for stdout. */
  path: string;
  /** CloudWatch namespace; default `fmguard`. */
  namespace: string;
}

export const DEFAULT_EMF_NAMESPACE = 'fmguard';

export interface RetryBudgetConfig {
  ratio: number;
  windowMs: number;
  minRetries: number;
}

export interface ResolvedKey {
  /** A stable, non-secret id for the key (used in scopes, logs and the audit log). */
  id: string;
  name: string;
  secret: string;
  budgets: BudgetConfig[];
  rateLimits: RateLimitsConfig;
}

export interface ResolvedAgent {
  name: string;
  tenant: string;
  keys: ResolvedKey[];
  limits: Limits;
  timeouts: Timeouts;
  retry: RetrierConfig[];
  budgets: BudgetConfig[];
  rateLimits: RateLimitsConfig;
  allow: { models: string[]; tools: string[] };
  deny: { models: string[]; tools: string[] };
  approve: { models: string[]; tools: string[] };
  policyFiles: string[];
  policyMode: 'enforce' | 'shadow';
  approvals: ApprovalSettings;
  redactFields: string[];
  /** Calls in flight at once across replicas (Lambda reserved concurrency); undefined = no cap. */
  maxConcurrentCalls?: number;
  /** Agents that may make their runs sub-runs of this agent's runs (config `delegatesTo`). */
  delegatesTo: string[];
}

export interface ApprovalSettings {
  ttlMs: number;
  waitMs: number;
}

export const DEFAULT_APPROVALS: ApprovalSettings = { ttlMs: 15 * 60_000, waitMs: 0 };

export interface ResolvedTenant {
  name: string;
  budgets: BudgetConfig[];
  rateLimits: RateLimitsConfig;
  /** Calls of all its agents in flight at once across replicas; undefined = no cap. */
  maxConcurrentCalls?: number;
}

export interface ResolvedModel extends ModelConfig {
  name: string;
  fallbacks: string[];
  /** Always set once resolved: from the config, else the price catalogue (a model without a price is refused). */
  inputPerMTok: number;
  outputPerMTok: number;
  /** Where the price came from: the config, the `@pydantic/genai-prices` catalogue, or both (config fields override). */
  priceSource: PriceSource;
}

export interface FmguardConfig {
  store: NonNullable<ParsedConfig['store']>;
  providers: Record<string, ProviderConfig>;
  models: Record<string, ResolvedModel>;
  toolServers: NonNullable<ParsedConfig['toolServers']>;
  tenants: Record<string, ResolvedTenant>;
  agents: Record<string, ResolvedAgent>;
  /** Secret key → agent name and key id. */
  keyIndex: Map<string, { agent: string; keyId: string }>;
  defaults: {
    limits: Limits;
    timeouts: Timeouts;
    retry: RetrierConfig[];
    retryBudget: RetryBudgetConfig;
    reservationTtlMs: number;
    maxRetryAfterMs: number;
    approvals: ApprovalSettings;
    /** 0: runs are never ended for being idle. */
    runIdleTtlMs: number;
    runIdleSweepMs: number;
  };
  globalPolicyFiles: string[];
  /** The org's allow ceiling (config `ceiling`): undefined when there is none. */
  ceiling?: { models?: string[]; tools?: string[] };
  alarms: Array<AlarmSpec | CompositeSpec>;
  breakers: { defaults: Partial<BreakerPolicy>; overrides: Record<string, Partial<BreakerPolicy>> };
  metrics: { resolutionMs?: number; retentionMs?: number; emf?: EmfConfig };
  audit: NonNullable<ParsedConfig['audit']>;
  /** Retention of runs and ledger detail (ages in ms); empty: kept forever. */
  retention: NonNullable<ParsedConfig['retention']>;
  server: NonNullable<ParsedConfig['server']>;
}

function mergeLimits(base: Limits, over: LimitsInput | undefined): Limits {
  if (!over) return base;
  const { maxToolCallsPerTool, ...rest } = over;
  const merged: Limits = { ...base };
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  if (typeof maxToolCallsPerTool === 'number') merged.maxToolCallsPerTool = { default: maxToolCallsPerTool, byTool: {} };
  else if (maxToolCallsPerTool)
    merged.maxToolCallsPerTool = { default: base.maxToolCallsPerTool.default, byTool: { ...base.maxToolCallsPerTool.byTool, ...maxToolCallsPerTool } };
  return merged;
}

function mergeTimeouts(base: Timeouts, over: AgentConfig['timeouts']): Timeouts {
  return {
    model: { ...base.model, ...stripUndefined(over?.model ?? {}) },
    tool: { ...base.tool, ...stripUndefined(over?.tool ?? {}) },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function checkRetriers(retriers: unknown, path: string, problems: ConfigProblem[]): void {
  problems.push(...validateRetriers(retriers, path));
}

function resolveMetrics(metrics: ParsedConfig['metrics']): FmguardConfig['metrics'] {
  const { emf, ...rest } = metrics ?? {};
  return emf ? { ...rest, emf: { path: emf.path, namespace: emf.namespace ?? DEFAULT_EMF_NAMESPACE } } : rest;
}

/**
 * A model's price: the config's, else (for openai, anthropic and bedrock models) the catalogue's, each
 * configured field overriding the catalogue's. A model with no price at all is a problem, never a
 * silent $0: it could not be budgeted.
 */
function priced(
  name: string,
  model: ModelConfig,
  provider: ProviderConfig | undefined,
  problems: ConfigProblem[],
): ModelConfig & { inputPerMTok: number; outputPerMTok: number; priceSource: PriceSource } {
  const { inputPerMTok, outputPerMTok } = model;
  if (inputPerMTok !== undefined && outputPerMTok !== undefined) return { ...model, inputPerMTok, outputPerMTok, priceSource: 'config' };
  const upstream = model.upstreamModel ?? name;
  const found = provider ? cataloguePrice(provider.kind, upstream) : undefined;
  if (found) {
    const { catalogueId: _, ...catalogue } = found;
    const own = stripUndefined({ inputPerMTok, outputPerMTok, cachedInputPerMTok: model.cachedInputPerMTok });
    const priceSource: PriceSource = Object.keys(own).length > 0 ? 'config+catalogue' : 'catalogue';
    return { ...model, ...catalogue, ...own, priceSource };
  }
  if (provider) {
    const why = hasCatalogue(provider.kind)
      ? `the price catalogue does not know "${upstream}" at a ${provider.kind} provider`
      : `${provider.kind} models are not in the price catalogue`;
    problems.push({
      path: `models.${name}`,
      message: `no price: ${why}; set inputPerMTok and outputPerMTok (USD per million tokens), a model without a price cannot be budgeted`,
    });
  }
  return { ...model, inputPerMTok: inputPerMTok ?? 0, outputPerMTok: outputPerMTok ?? 0, priceSource: 'config' };
}

/** Fill defaults, cross-check references, and index keys. Problems are collected, never thrown one by one. */
export function resolveConfig(parsed: ParsedConfig, problems: ConfigProblem[]): FmguardConfig {
  const defaults = {
    limits: mergeLimits(DEFAULT_LIMITS, parsed.defaults?.limits),
    timeouts: mergeTimeouts(DEFAULT_TIMEOUTS, parsed.defaults?.timeouts),
    retry: (parsed.defaults?.retry as RetrierConfig[] | undefined) ?? DEFAULT_RETRY,
    retryBudget: { ratio: 0.2, windowMs: 10_000, minRetries: 3, ...stripUndefined(parsed.defaults?.retryBudget ?? {}) },
    reservationTtlMs: parsed.defaults?.reservationTtlMs ?? 10 * 60_000,
    maxRetryAfterMs: parsed.defaults?.maxRetryAfterMs ?? 30_000,
    runIdleTtlMs: parsed.defaults?.runIdleTtlMs ?? 30 * 60_000,
    runIdleSweepMs: parsed.defaults?.runIdleSweepMs ?? 60_000,
    approvals: { ...DEFAULT_APPROVALS, ...stripUndefined(parsed.defaults?.approvals ?? {}) },
  };
  checkRetriers(defaults.retry, 'defaults.retry', problems);

  const providers = parsed.providers ?? {};
  const models: Record<string, ResolvedModel> = {};
  for (const [name, model] of Object.entries(parsed.models ?? {})) {
    const provider = providers[model.provider];
    if (!provider) problems.push({ path: `models.${name}.provider`, message: `unknown provider "${model.provider}"` });
    models[name] = { ...priced(name, model, provider, problems), name, fallbacks: model.fallbacks ?? [] };
  }
  for (const model of Object.values(models)) {
    model.fallbacks.forEach((fallback, i) => {
      if (!models[fallback]) problems.push({ path: `models.${model.name}.fallbacks[${i}]`, message: `unknown model "${fallback}"` });
    });
  }

  const tenants: Record<string, ResolvedTenant> = {};
  for (const [name, tenant] of Object.entries(parsed.tenants ?? {})) {
    tenants[name] = { name, budgets: tenant.budgets ?? [], rateLimits: tenant.rateLimits ?? {} };
    if (tenant.maxConcurrentCalls !== undefined) tenants[name].maxConcurrentCalls = tenant.maxConcurrentCalls;
  }

  const keyIndex = new Map<string, { agent: string; keyId: string }>();
  const agents: Record<string, ResolvedAgent> = {};
  for (const [name, agent] of Object.entries(parsed.agents ?? {})) {
    if (!tenants[agent.tenant]) {
      problems.push({ path: `agents.${name}.tenant`, message: `unknown tenant "${agent.tenant}" (declare it under tenants)` });
    }
    const keys: ResolvedKey[] = (agent.keys ?? []).map((entry, i) => {
      const secret = typeof entry === 'string' ? entry : entry.key;
      const id = `key_${fingerprint(secret).slice(0, 12)}`;
      const previous = keyIndex.get(secret);
      if (previous) problems.push({ path: `agents.${name}.keys[${i}]`, message: `key is already used by agent "${previous.agent}"` });
      else keyIndex.set(secret, { agent: name, keyId: id });
      return {
        id,
        name: typeof entry === 'string' ? `${name}#${i}` : (entry.name ?? `${name}#${i}`),
        secret,
        budgets: typeof entry === 'string' ? [] : (entry.budgets ?? []),
        rateLimits: typeof entry === 'string' ? {} : (entry.rateLimits ?? {}),
      };
    });
    const retry = (agent.retry as RetrierConfig[] | undefined) ?? defaults.retry;
    if (agent.retry) checkRetriers(agent.retry, `agents.${name}.retry`, problems);
    agents[name] = {
      name,
      tenant: agent.tenant,
      keys,
      limits: mergeLimits(defaults.limits, agent.limits),
      timeouts: mergeTimeouts(defaults.timeouts, agent.timeouts),
      retry,
      budgets: agent.budgets ?? [],
      rateLimits: agent.rateLimits ?? {},
      allow: { models: agent.allow?.models ?? [], tools: agent.allow?.tools ?? [] },
      deny: { models: agent.deny?.models ?? [], tools: agent.deny?.tools ?? [] },
      approve: { models: agent.approve?.models ?? [], tools: agent.approve?.tools ?? [] },
      policyFiles: asList(agent.policies),
      policyMode: agent.policyMode ?? 'enforce',
      approvals: { ...defaults.approvals, ...stripUndefined(agent.approvals ?? {}) },
      redactFields: agent.redactFields ?? [],
      delegatesTo: agent.delegatesTo ?? [],
    };
    if (agent.maxConcurrentCalls !== undefined) agents[name].maxConcurrentCalls = agent.maxConcurrentCalls;
  }
  for (const [name, agent] of Object.entries(agents)) {
    for (const [i, other] of agent.delegatesTo.entries()) {
      const delegate = Object.hasOwn(agents, other) ? agents[other] : undefined;
      if (!delegate) problems.push({ path: `agents.${name}.delegatesTo[${i}]`, message: `unknown agent "${other}"` });
      else if (delegate.tenant !== agent.tenant) {
        problems.push({ path: `agents.${name}.delegatesTo[${i}]`, message: `agent "${other}" is in tenant "${delegate.tenant}", not "${agent.tenant}"` });
      }
    }
  }

  checkToolRetries(parsed.toolServers ?? {}, problems);
  checkCatchers(models, parsed.toolServers ?? {}, problems);
  problems.push(...validateAlarmConfig(parsed.alarms, 'alarms', parsed.metrics?.resolutionMs ?? DEFAULT_RESOLUTION_MS));

  const store = parsed.store ?? { kind: 'sqlite' as const, path: '.fmguard/state.db' };
  return {
    store,
    providers,
    models,
    toolServers: parsed.toolServers ?? {},
    tenants,
    agents,
    keyIndex,
    defaults,
    globalPolicyFiles: asList(parsed.policies?.global),
    ...(parsed.ceiling ? { ceiling: stripUndefined(parsed.ceiling) } : {}),
    alarms: (parsed.alarms ?? []) as unknown as Array<AlarmSpec | CompositeSpec>,
    breakers: { defaults: stripUndefined(parsed.breakers?.defaults ?? {}), overrides: parsed.breakers?.overrides ?? {} },
    metrics: resolveMetrics(parsed.metrics),
    audit: parsed.audit ?? {},
    retention: parsed.retention ?? {},
    server: parsed.server ?? {},
  };
}

type ToolServers = NonNullable<ParsedConfig['toolServers']>;

/** A tool's retry settings: its own, else its server's. */
function toolRetrySettings(servers: ToolServers, tool: string): { retry?: RetrierConfig[]; idempotent?: boolean; path: string } {
  const dot = tool.indexOf('.');
  const serverName = dot > 0 ? tool.slice(0, dot) : tool;
  const server = Object.hasOwn(servers, serverName) ? servers[serverName] : undefined;
  if (!server) return { path: `toolServers.${serverName}` };
  const name = dot > 0 ? tool.slice(dot + 1) : '';
  const own = name && server.tools && Object.hasOwn(server.tools, name) ? server.tools[name] : undefined;
  if (own?.retry)
    return { retry: own.retry as unknown as RetrierConfig[], idempotent: own.idempotent ?? server.idempotent, path: `toolServers.${serverName}.tools.${name}` };
  return { retry: server.retry as unknown as RetrierConfig[] | undefined, idempotent: own?.idempotent ?? server.idempotent, path: `toolServers.${serverName}` };
}

/**
 * The retriers a tool call gets: none unless the config gives the tool (or its server) a `retry`
 * and marks it `idempotent: true`. As in Step Functions and Lambda, nothing is retried without a
 * Retry, and a tool with side effects is never repeated behind the caller's back.
 */
export function toolRetriers(config: Pick<FmguardConfig, 'toolServers'>, tool: string): RetrierConfig[] {
  const settings = toolRetrySettings(config.toolServers, tool);
  return settings.retry && settings.idempotent === true ? settings.retry : [];
}

function checkToolRetries(servers: ToolServers, problems: ConfigProblem[]): void {
  for (const [serverName, server] of Object.entries(servers)) {
    const entries: Array<[string, { retry?: unknown; idempotent?: boolean }, boolean | undefined]> = [[`toolServers.${serverName}`, server, undefined]];
    for (const [name, tool] of Object.entries(server.tools ?? {})) entries.push([`toolServers.${serverName}.tools.${name}`, tool, server.idempotent]);
    for (const [path, entry, inherited] of entries) {
      if (entry.retry === undefined) continue;
      checkRetriers(entry.retry, `${path}.retry`, problems);
      if ((entry.idempotent ?? inherited) !== true) {
        problems.push({
          path: `${path}.retry`,
          message: 'a tool is retried only when it is safe to repeat: add `idempotent: true` (a tool with side effects is never retried)',
        });
      }
    }
  }
}

/** A model's catchers (`models.<name>.catch`), as configured; none when it has none. */
export function modelCatchers(config: Pick<FmguardConfig, 'models'>, model: string): Catcher[] {
  const m = Object.hasOwn(config.models, model) ? config.models[model] : undefined;
  return (m?.catch as Catcher[] | undefined) ?? [];
}

/** A tool's catchers (`toolServers.<s>.tools.<t>.catch`, for the tool `s.t`); none when it has none. */
export function toolCatchers(config: Pick<FmguardConfig, 'toolServers'>, tool: string): Catcher[] {
  const dot = tool.indexOf('.');
  if (dot <= 0) return [];
  const server = Object.hasOwn(config.toolServers, tool.slice(0, dot)) ? config.toolServers[tool.slice(0, dot)] : undefined;
  const name = tool.slice(dot + 1);
  const own = server?.tools && Object.hasOwn(server.tools, name) ? server.tools[name] : undefined;
  return (own?.catch as Catcher[] | undefined) ?? [];
}

/** Catchers: shape, codes, `all` last and alone, `next` known, no self-reference and no cycle. */
function checkCatchers(models: Record<string, ResolvedModel>, servers: ToolServers, problems: ConfigProblem[]): void {
  const modelEdges = new Map<string, string[]>();
  for (const model of Object.values(models)) {
    if (model.catch === undefined) continue;
    const path = `models.${model.name}.catch`;
    const found = validateCatchers(model.catch, path, model.name, (next) => Object.hasOwn(models, next));
    problems.push(...found.map((p) => ({ ...p, message: p.message.startsWith('unknown "') ? `unknown model ${p.message.slice(8)}` : p.message })));
    if (found.length === 0)
      modelEdges.set(
        model.name,
        (model.catch as unknown as Catcher[]).map((c) => c.next),
      );
  }
  const modelCycle = findCatchCycle([...modelEdges.keys()], (n) => modelEdges.get(n) ?? []);
  if (modelCycle) problems.push({ path: `models.${modelCycle[0]}.catch`, message: `catchers form a cycle: ${modelCycle.join(' → ')}` });

  const tools = new Set<string>();
  for (const [serverName, server] of Object.entries(servers)) for (const name of Object.keys(server.tools ?? {})) tools.add(`${serverName}.${name}`);
  const toolEdges = new Map<string, string[]>();
  for (const [serverName, server] of Object.entries(servers)) {
    for (const [name, tool] of Object.entries(server.tools ?? {})) {
      if (tool.catch === undefined) continue;
      const full = `${serverName}.${name}`;
      const path = `toolServers.${serverName}.tools.${name}.catch`;
      const found = validateCatchers(tool.catch, path, full, (next) => tools.has(next));
      problems.push(
        ...found.map((p) => ({
          ...p,
          message: p.message.startsWith('unknown "') ? `unknown tool ${p.message.slice(8)} (declare it as server.tool under toolServers)` : p.message,
        })),
      );
      if (found.length === 0)
        toolEdges.set(
          full,
          (tool.catch as unknown as Catcher[]).map((c) => c.next),
        );
    }
  }
  const toolCycle = findCatchCycle([...toolEdges.keys()], (n) => toolEdges.get(n) ?? []);
  if (toolCycle) {
    const [first = ''] = toolCycle;
    const dot = first.indexOf('.');
    problems.push({
      path: `toolServers.${first.slice(0, dot)}.tools.${first.slice(dot + 1)}.catch`,
      message: `catchers form a cycle: ${toolCycle.join(' → ')}`,
    });
  }
}
