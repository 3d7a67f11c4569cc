import { cedar, type EntityJson, type PolicyJson, type StatefulAuthorizationCall } from './cedar.ts';
import { SELF } from './shorthand.ts';
import { scopeFilter, type ScopedPolicy } from './scope.ts';
import { compilePolicies, mentionsVar, type CompiledPolicies, type CompiledPolicy } from './compile.ts';
import { requestContext, validContext } from './context.ts';
import { decisionFrom } from './decision.ts';
import { agentEntity, modelEntity, toolEntity } from './entities.ts';
import { preparsedSet } from './preparsed.ts';
import { PolicyConfigError } from './problems.ts';
import { compileResidual, type ResidualPolicy } from './residual.ts';
import { ACTION_TYPE, CONTEXT_KEYS, TENANT_TYPE } from './schema.ts';
import type { AgentPolicySpec, Decision, DecisionRequest, ModelSpec, PolicyAction, PolicyProblem, PolicySpec } from './types.ts';

/**
 * What each decision is evaluated against:
 * - `request` (default): per (agent, action, resource), Cedar partial evaluation with the context
 *   unknown, done once, leaves only what the context can still change. Nothing left → the decision
 *   is fixed and cached. Otherwise the residual conditions are evaluated per call (see `evaluator`).
 * - `agent`: the agent's own policies plus the global ones, with cedar-wasm, every call.
 * - `full`: every policy of the deployment, with cedar-wasm, every call (the benchmark baseline).
 */
export type SliceStrategy = 'request' | 'agent' | 'full';

export interface PolicyEngineOptions {
  readonly strategy?: SliceStrategy;
  /**
   * For `request`: evaluate residual conditions in JavaScript (`js`, default; any residual outside
   * its subset falls back to cedar-wasm) or always with cedar-wasm over the original policies.
   */
  readonly evaluator?: 'js' | 'cedar';
}

export interface PolicyInfo {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  readonly approval: boolean;
  readonly readsContext: boolean;
  /** The owning agent; undefined for a global policy. */
  readonly agent?: string;
  readonly source: string;
  /** 1-based; 0 for shorthand (then `source` is the config path). */
  readonly line: number;
}

/**
 * The engine's own counters since it was built: how decisions were made and how many policies they
 * evaluated. Plain integer adds on the decision path; `stats()` returns a copy.
 */
export interface PolicyEngineStats {
  /** `decide` calls (an unknown agent and a malformed context included: they evaluate nothing). */
  decisions: number;
  /** Answered from a cached fixed decision: no policy evaluated. */
  fixed: number;
  /** Decided by evaluating the target's residual conditions in JavaScript. */
  residual: number;
  /** Decided by one cedar-wasm authorization call. */
  cedar: number;
  /**
   * Policies evaluated, summed over decisions: a residual decision evaluates its residual
   * conditions; a cedar-wasm decision every policy of the set passed to that authorization call
   * (the whole deployment, the agent's slice, or the policies partial evaluation left in reach).
   */
  policiesEvaluated: number;
  /** (agent, action, resource) targets prepared: one Cedar partial evaluation each (`full`/`agent`: none). */
  prepared: number;
}

export interface PolicyEngine {
  /** Never throws: an unknown agent is a deny, a malformed context a deny with reason `error`. */
  decide(request: DecisionRequest): Decision;
  /** The engine's counters (decisions, policies evaluated); see `PolicyEngineStats`. */
  stats(): PolicyEngineStats;
  /** Where a policy id came from, for audit events and `policy check` output. */
  policy(id: string): PolicyInfo | undefined;
  /**
   * How requests for this (agent, action, resource) are decided: `fixed` (cached, the context cannot
   * change it), `residual` (context conditions evaluated in JS), `cedar` (cedar-wasm per call), or
   * `unknown-agent`. For diagnostics and tests; prepares the target if needed.
   */
  evaluationPath(request: Pick<DecisionRequest, 'agent' | 'action' | 'resource'>): 'fixed' | 'residual' | 'cedar' | 'unknown-agent';
  /**
   * Prepare every configured (agent, model) and (agent, tool) pair now, so the first request for
   * each skips the one-off partial evaluation (a few ms). Returns how many were prepared.
   */
  warm(): number;
  /**
   * Could some request for (agent, action, resource) be allowed, whatever its context (arguments,
   * counters, hour)? Cedar partial evaluation with the context unknown: false when a forbid applies
   * for certain (or certainly fails to evaluate, which denies) or when no permit can apply; true when
   * a permit is satisfied or left as a residual. Used for MCP `tools/list`. Ignores shadow mode (see
   * `isShadow`); an unknown agent or action is false. `tenant` is carried by the agent's entity.
   */
  mayAllow(agent: string, tenant: string, action: PolicyAction, resource: string): boolean;
  /** The agent's decisions are reported only (`mode: shadow`). */
  isShadow(agent: string): boolean;
  /** The Cedar schema policies were validated against (what `fmguard policy schema` would print). */
  readonly schemaText: string;
  /** Non-fatal problems found at creation (unknown names in shorthand, untypable tool arguments). */
  readonly warnings: readonly PolicyProblem[];
}

/** A prepared (agent, action, resource). Exactly one of the three ways to decide is set. */
interface Target {
  /** Fixed: no condition in reach reads the context. */
  readonly decision?: Decision;
  /** Context-dependent, evaluated in JS: residual conditions plus what partial evaluation settled. */
  readonly residuals?: readonly ResidualPolicy[];
  readonly satisfied?: readonly string[];
  readonly errored?: readonly string[];
  readonly readsInput?: boolean;
  /** Context-dependent, evaluated by cedar-wasm. */
  readonly call?: StatefulAuthorizationCall;
  /** How many policies the preparsed set of `call` holds (what each authorization call evaluates). */
  readonly size?: number;
}

interface AgentState {
  readonly entity: EntityJson;
  readonly shadow: boolean;
  /** Its own policies plus the global ones, as text. */
  readonly slice: ReadonlyMap<string, string>;
  /** Each policy's position in the slice. */
  readonly order: ReadonlyMap<string, number>;
  /** The slice per action, with each policy's resource scope for a cheap first cut. */
  readonly byAction: Readonly<Record<PolicyAction, readonly ScopedPolicy[]>>;
  readonly targets: Readonly<Record<PolicyAction, Map<string, Target>>>;
  /** `mayAllow` answers, per action and resource. */
  readonly listable: Readonly<Record<PolicyAction, Map<string, boolean>>>;
  /**
   * Set when nothing in the agent's slice but its shorthand can tell it from another agent of its
   * tenant (see `principalBlind`): its partial evaluations are then shared with every agent whose
   * candidates have the same shape, done once as the placeholder agent `SELF`.
   */
  readonly shared?: { readonly entity: EntityJson; readonly key: string };
}

type PartialResponse = Extract<ReturnType<ReturnType<typeof cedar>['isAuthorizedPartial']>, { type: 'residuals' }>['response'];

// Bounds memory when tool or model names come from the model's output.
const MAX_TARGETS_PER_ACTION = 4096;
const NONE: readonly string[] = Object.freeze([]);

/**
 * Build the policy engine: every policy is parsed and validated against the schema here, once; any
 * problem throws a `PolicyConfigError` naming file:line:column, so nothing fails at the first request.
 */
export function createPolicyEngine(spec: PolicySpec, { strategy = 'request', evaluator = 'js' }: PolicyEngineOptions = {}): PolicyEngine {
  const compiled = compilePolicies(spec);
  if (compiled.problems.some((p) => p.severity === 'error')) throw new PolicyConfigError(compiled.problems);
  const { policies, inputType } = compiled;
  const models = new Map<string, ModelSpec>((spec.models ?? []).map((m) => [m.name, m]));
  const agents = new Map<string, AgentState>();
  const blind = new Map<string, Blindness>();
  const isBlind = (p: CompiledPolicy): Blindness => {
    let b = blind.get(p.id);
    if (b === undefined) blind.set(p.id, (b = principalBlind(p)));
    return b;
  };
  for (const a of spec.agents) agents.set(a.id, agentState(a, compiled, isBlind));
  let fullSet: string | undefined;
  // Partial evaluation answers of agents with the same shape, by (action, resource, tenant, candidates).
  const sharedAnswers = new Map<string, PartialResponse | undefined>();

  const unknownAgent: Decision = Object.freeze({ effect: 'deny', reason: 'no-permit', policies: NONE, shadow: false });
  const counters: PolicyEngineStats = { decisions: 0, fixed: 0, residual: 0, cedar: 0, policiesEvaluated: 0, prepared: 0 };

  function prepare(agent: AgentState, action: PolicyAction, resource: string): Target {
    const call = baseCall(agent, action, resource);
    if (strategy === 'full') return { call: { ...call, preparsedPolicySetId: (fullSet ??= preparsedSet(allJson(policies))) }, size: policies.size };
    if (strategy === 'agent') return { call: { ...call, preparsedPolicySetId: preparsedSet(agent.slice) }, size: agent.slice.size };
    counters.prepared++;
    return prune(agent, action, call);
  }

  /** Partial evaluation with every context attribute unknown: what can still matter for this target. */
  function baseCall(agent: AgentState, action: PolicyAction, resource: string): StatefulAuthorizationCall {
    const resourceEntity = action === 'invokeModel' ? modelEntity(resource, models.get(resource), compiled.globs) : toolEntity(resource, compiled.globs);
    return {
      principal: agent.entity.uid,
      action: { type: ACTION_TYPE, id: action },
      resource: resourceEntity.uid,
      context: {},
      entities: [agent.entity, resourceEntity],
      preparsedPolicySetId: '',
    };
  }

  /** Every context attribute unknown: what partial evaluation leaves open. */
  function unknownContext(action: PolicyAction): Record<string, unknown> {
    const context: Record<string, { __extn: { fn: string; arg: string } }> = {};
    for (const key of CONTEXT_KEYS[action]) context[key] = { __extn: { fn: 'unknown', arg: key } };
    return context;
  }

  function prune(agent: AgentState, action: PolicyAction, call: StatefulAuthorizationCall): Target {
    const context = unknownContext(action);
    const response = (agent.shared && sharedPartial(agent, agent.shared, action, call, context)) || partial(agent, action, call, context);
    if (!response) return { call: { ...call, preparsedPolicySetId: preparsedSet(agent.slice) }, size: agent.slice.size };
    // In the agent's slice order (global policies first, then its own as configured), whichever
    // way they were found: Cedar reports them in hash order.
    const inOrder = (ids: readonly string[]) => (ids.length < 2 ? ids : [...ids].sort((a, b) => agent.order.get(a)! - agent.order.get(b)!));
    const satisfied = inOrder(response.satisfied);
    const errored = inOrder(response.errored);
    const nontrivialResiduals = inOrder(response.nontrivialResiduals);
    const { residuals } = response;
    const inReach = [...satisfied, ...errored, ...nontrivialResiduals];
    const fixed = nontrivialResiduals.length === 0 && inReach.every((id) => !policies.get(id)!.readsContext);
    if (fixed) return { decision: frozen(decisionFrom(satisfied, errored, policies, agent.shadow)) };
    if (evaluator === 'js') {
      const compiledResiduals = nontrivialResiduals.map((id) => compileResidual(id, residuals[id]!));
      if (compiledResiduals.every((r) => r !== undefined)) {
        return {
          residuals: compiledResiduals as ResidualPolicy[],
          satisfied,
          errored,
          readsInput: compiledResiduals.some((r) => r!.keys.has('input')),
        };
      }
    }
    const live = new Map<string, string>();
    for (const id of inReach) live.set(id, agent.slice.get(id)!);
    return { call: { ...call, preparsedPolicySetId: preparsedSet(live) }, size: live.size };
  }

  /** Partial evaluation of the agent's own candidates; undefined when cedar-wasm answers with a failure. */
  function partial(agent: AgentState, action: PolicyAction, call: StatefulAuthorizationCall, context: Record<string, unknown>): PartialResponse | undefined {
    // Policies whose scope names another action or resource cannot apply; partial evaluation
    // (which costs per policy) decides the rest.
    const candidates: Record<string, string> = {};
    const resource = call.entities[1]!;
    for (const p of agent.byAction[action]) if (p.mayApplyTo(resource)) candidates[p.id] = p.text;
    const answer = cedar().isAuthorizedPartial({
      principal: call.principal,
      action: call.action,
      resource: call.resource,
      context: context as never,
      entities: call.entities,
      policies: { staticPolicies: candidates },
    });
    return answer.type === 'residuals' ? answer.response : undefined;
  }

  /**
   * The same partial evaluation, done as the placeholder agent over the shorthand templates and
   * shared by every agent with the same key, its ids then mapped back to this agent's. Undefined
   * (the caller evaluates the agent's own policies) whenever sharing could change the answer.
   */
  function sharedPartial(
    agent: AgentState,
    shared: NonNullable<AgentState['shared']>,
    action: PolicyAction,
    call: StatefulAuthorizationCall,
    context: Record<string, unknown>,
  ): PartialResponse | undefined {
    const resource = call.entities[1]!;
    const candidates: Record<string, string> = {};
    const real = new Map<string, string>();
    for (const p of agent.byAction[action]) {
      if (!p.mayApplyTo(resource)) continue;
      const id = p.template?.id ?? p.id;
      if (real.has(id)) return undefined;
      real.set(id, p.id);
      candidates[id] = p.template?.text ?? p.text;
    }
    const key = JSON.stringify([shared.key, action, call.resource, ...real.keys()]);
    let response = sharedAnswers.get(key);
    if (!sharedAnswers.has(key)) {
      const answer = cedar().isAuthorizedPartial({
        principal: shared.entity.uid,
        action: call.action,
        resource: call.resource,
        context: context as never,
        entities: [shared.entity, resource],
        policies: { staticPolicies: candidates },
      });
      response = answer.type === 'residuals' ? answer.response : undefined;
      // A residual that still names the placeholder agent is not this agent's: never shared.
      if (response && response.nontrivialResiduals.length > 0 && JSON.stringify(response.residuals).includes(JSON.stringify(SELF))) response = undefined;
      sharedAnswers.set(key, response);
    }
    if (!response) return undefined;
    const ids = (list: readonly string[]) => list.map((id) => real.get(id)!);
    const residuals: Record<string, PolicyJson> = {};
    for (const id of response.nontrivialResiduals) residuals[real.get(id)!] = response.residuals[id]!;
    return {
      ...response,
      satisfied: ids(response.satisfied),
      errored: ids(response.errored),
      nontrivialResiduals: ids(response.nontrivialResiduals),
      mayBeDetermining: ids(response.mayBeDetermining),
      mustBeDetermining: ids(response.mustBeDetermining),
      residuals,
    };
  }

  function targetFor(agent: AgentState, action: PolicyAction, resource: string): Target | undefined {
    // `action` comes from the caller: only the two known actions index the table.
    const targets = action === 'invokeModel' || action === 'callTool' ? agent.targets[action] : undefined;
    if (!targets) return undefined;
    let target = targets.get(resource);
    if (!target) {
      if (targets.size >= MAX_TARGETS_PER_ACTION) targets.clear();
      target = prepare(agent, action, resource);
      targets.set(resource, target);
    }
    return target;
  }

  function decide(request: DecisionRequest): Decision {
    counters.decisions++;
    const agent = agents.get(request.agent);
    if (!agent) return unknownAgent;
    const target = targetFor(agent, request.action, request.resource);
    if (!target) return unknownAgent;
    if (target.decision) {
      counters.fixed++;
      return target.decision;
    }
    if (!validContext(request)) return { effect: 'deny', reason: 'error', policies: NONE, shadow: agent.shadow };
    if (target.residuals) {
      counters.residual++;
      counters.policiesEvaluated += target.residuals.length;
      return evaluateResiduals(target, request, agent.shadow);
    }
    counters.cedar++;
    counters.policiesEvaluated += target.size!;
    const call = target.call!;
    call.context = requestContext(request, inputType);
    const answer = cedar().statefulIsAuthorized(call);
    if (answer.type === 'failure') return { effect: 'deny', reason: 'error', policies: NONE, shadow: agent.shadow };
    const { reason, errors } = answer.response.diagnostics;
    return decisionFrom(reason, errors.length === 0 ? NONE : errors.map((e) => e.policyId), policies, agent.shadow);
  }

  function evaluateResiduals(target: Target, request: DecisionRequest, shadow: boolean): Decision {
    const ctx = requestContext(request, inputType, target.readsInput);
    let satisfied = target.satisfied!;
    let errored = target.errored!;
    for (const r of target.residuals!) {
      try {
        if (r.test(ctx)) satisfied = [...satisfied, r.id];
      } catch {
        // An evaluation error (or, fail closed, anything else): Cedar's "errored" policy.
        errored = [...errored, r.id];
      }
    }
    return decisionFrom(satisfied, errored, policies, shadow);
  }

  function evaluationPath({ agent: id, action, resource }: Pick<DecisionRequest, 'agent' | 'action' | 'resource'>) {
    const agent = agents.get(id);
    const target = agent && targetFor(agent, action, resource);
    if (!target) return 'unknown-agent' as const;
    return target.decision ? ('fixed' as const) : target.residuals ? ('residual' as const) : ('cedar' as const);
  }

  function warm(): number {
    const tools = (spec.toolServers ?? []).flatMap((s) => (s.tools ?? []).map((t) => `${s.name}.${t.name}`));
    let count = 0;
    for (const agent of agents.values()) {
      for (const m of models.keys()) count += targetFor(agent, 'invokeModel', m) ? 1 : 0;
      for (const t of tools) count += targetFor(agent, 'callTool', t) ? 1 : 0;
    }
    return count;
  }

  function mayAllow(id: string, _tenant: string, action: PolicyAction, resource: string): boolean {
    const agent = agents.get(id);
    const cache = agent && (action === 'invokeModel' || action === 'callTool') ? agent.listable[action] : undefined;
    if (!agent || !cache) return false;
    const known = cache.get(resource);
    if (known !== undefined) return known;
    const answer = partial(agent, action, baseCall(agent, action, resource), unknownContext(action));
    // Fail closed: a policy set partial evaluation cannot handle lists nothing.
    const may = answer !== undefined && someRequestAllowed(answer, policies);
    if (cache.size >= MAX_TARGETS_PER_ACTION) cache.clear();
    cache.set(resource, may);
    return may;
  }

  return {
    decide,
    stats: () => ({ ...counters }),
    evaluationPath,
    warm,
    mayAllow,
    isShadow: (id) => agents.get(id)?.shadow ?? false,
    policy: (id) => policyInfo(policies.get(id)),
    schemaText: compiled.schemaText,
    warnings: compiled.problems,
  };
}

/**
 * From a partial evaluation with the context unknown: a satisfied forbid, or one that errors
 * whatever the context, denies every request; otherwise some request is allowed when a permit is
 * satisfied or still conditional. A conditional forbid does not hide: some context may escape it.
 */
function someRequestAllowed(
  r: { satisfied: readonly string[]; errored: readonly string[]; nontrivialResiduals: readonly string[] },
  policies: ReadonlyMap<string, CompiledPolicy>,
): boolean {
  const effect = (id: string) => policies.get(id)?.effect;
  if (r.satisfied.some((id) => effect(id) === 'forbid') || r.errored.some((id) => effect(id) === 'forbid')) return false;
  return r.satisfied.some((id) => effect(id) === 'permit') || r.nontrivialResiduals.some((id) => effect(id) === 'permit');
}

function agentState(spec: AgentPolicySpec, compiled: CompiledPolicies, isBlind: (p: CompiledPolicy) => Blindness): AgentState {
  const slice = new Map<string, string>();
  const byAction: Record<PolicyAction, ScopedPolicy[]> = { invokeModel: [], callTool: [] };
  let shareable = true;
  let byTenant = false;
  for (const id of [...compiled.globalIds, ...(compiled.agentIds.get(spec.id) ?? [])]) {
    const p = compiled.policies.get(id)!;
    const b = p.template ? 'any-agent' : isBlind(p);
    if (b === false) shareable = false;
    if (b === 'tenant') byTenant = true;
    slice.set(id, p.text);
    for (const action of ['invokeModel', 'callTool'] as const) {
      const scoped = scopeFilter(p, action);
      if (scoped) byAction[action].push(scoped);
    }
  }
  const entity = agentEntity(spec);
  const self = shareable ? agentEntity({ ...spec, id: SELF }) : undefined;
  return {
    entity,
    shadow: spec.mode === 'shadow',
    slice,
    order: new Map([...slice.keys()].map((id, i) => [id, i])),
    byAction,
    targets: { invokeModel: new Map(), callTool: new Map() },
    listable: { invokeModel: new Map(), callTool: new Map() },
    // Nothing but a tenant scope reads the principal beyond its id: the tenant is all that can differ.
    shared: self && { entity: self, key: byTenant ? `tenant:${spec.tenant}` : '' },
  };
}

/** `any-agent`: the policy cannot tell agents apart; `tenant`: only by tenant; false: it can. */
type Blindness = 'any-agent' | 'tenant' | false;

/**
 * Whether a policy's outcome can depend on which agent is asking: its principal scope is any
 * principal or a principal type (any agent), or a tenant (by tenant), and no condition reads
 * `principal` (else false). Shorthand pins its agent and is shared through its template instead.
 */
function principalBlind(p: CompiledPolicy): Blindness {
  const scope = p.json.principal as { op: string; entity?: unknown; entity_type?: string; in?: { entity?: unknown } };
  const tenant = (e: unknown): boolean => {
    const uid = (e !== null && typeof e === 'object' && '__entity' in e ? (e as { __entity: unknown }).__entity : e) as { type?: unknown } | undefined;
    return uid?.type === TENANT_TYPE;
  };
  if (p.json.conditions.some((c) => mentionsVar(c.body, 'principal'))) return false;
  if (scope.op === 'All' || (scope.op === 'is' && scope.in === undefined)) return 'any-agent';
  if ((scope.op === 'is' && tenant(scope.in?.entity)) || (scope.op === 'in' && tenant(scope.entity))) return 'tenant';
  return false;
}

/** A cached decision is shared by every caller: none of them may change it for the others. */
function frozen(decision: Decision): Decision {
  Object.freeze(decision.policies);
  if (decision.errors) Object.freeze(decision.errors);
  return Object.freeze(decision);
}

function allJson(policies: ReadonlyMap<string, CompiledPolicy>): Map<string, PolicyJson> {
  return new Map([...policies].map(([id, p]) => [id, p.json]));
}

function policyInfo(p: CompiledPolicy | undefined): PolicyInfo | undefined {
  if (!p) return undefined;
  return { id: p.id, effect: p.effect, approval: p.approval, readsContext: p.readsContext, agent: p.agent, source: p.source, line: p.line };
}
