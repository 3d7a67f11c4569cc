import {
  ACTION_TYPE,
  agentEntity,
  cedar,
  compilePolicies,
  CONTEXT_KEYS,
  demoToolServerSpec,
  modelEntity,
  PolicyConfigError,
  policySpecFromConfig,
  scopeFilter,
  toolEntity,
  type AgentPolicySpec,
  type CompiledPolicies,
  type FmguardConfig,
  type PolicyAction,
} from './sources.ts';

/** A policy, as the report names it. */
export interface PolicyRef {
  id: string;
  effect: 'permit' | 'forbid';
  /** `file:line`, or the config path of a shorthand entry. */
  where: string;
}

/**
 * What fmguard's policies say about one (agent, action, resource), whatever the request context:
 * - `deny`: a forbid applies to every request (a static forbid → an explicit IAM Deny);
 * - `allow`: some request can be allowed (IAM allows it; `conditions` lists what IAM cannot check);
 * - `none`: no permit can ever apply (IAM's implicit deny does the same).
 */
export interface AccessDecision {
  effect: 'allow' | 'deny' | 'none';
  /** The policies that decided a `deny`, or the permits that make it `allow`. */
  policies: PolicyRef[];
  /** Policies whose outcome depends on the request (tool arguments, run counters, hour): not in IAM. */
  conditions: PolicyRef[];
  /** A matching permit requires a human approval (always, or for some requests). */
  approval: 'always' | 'sometimes' | 'never';
}

export interface AccessOracle {
  /** The agent's decision, from its own and the global policies. */
  decide(agent: string, action: PolicyAction, resource: string): AccessDecision;
  /** A decision every agent gets from the global policies alone (the org-wide part: the SCP's). */
  decideOrg(action: PolicyAction, resource: string): AccessDecision;
}

/**
 * The policy engine's own compiled policies and Cedar's partial evaluation with the request context
 * unknown (as the engine prepares each target): what remains is exactly what only a request's data
 * can decide, and everything else is fixed, so it can be exported to IAM.
 */
export function createAccessOracle(config: FmguardConfig): AccessOracle {
  const builtin = Object.entries(config.toolServers)
    .filter(([, server]) => server.kind === 'builtin')
    .map(([name]) => demoToolServerSpec(name));
  const spec = policySpecFromConfig(config, builtin);
  const compiled = compilePolicies(spec);
  if (compiled.problems.some((p) => p.severity === 'error')) throw new PolicyConfigError(compiled.problems);
  const agents = new Map(spec.agents.map((a) => [a.id, a]));
  const models = new Map((spec.models ?? []).map((m) => [m.name, m]));

  const evaluate = (agent: AgentPolicySpec, ids: readonly string[], action: PolicyAction, resource: string): AccessDecision => {
    const principal = agentEntity(agent);
    const target = action === 'invokeModel' ? modelEntity(resource, models.get(resource), compiled.globs) : toolEntity(resource, compiled.globs);
    const candidates: Record<string, string> = {};
    for (const id of ids) {
      const policy = compiled.policies.get(id)!;
      if (scopeFilter(policy, action)?.mayApplyTo(target)) candidates[id] = policy.text;
    }
    const context: Record<string, { __extn: { fn: string; arg: string } }> = {};
    for (const key of CONTEXT_KEYS[action]) context[key] = { __extn: { fn: 'unknown', arg: key } };
    const answer = cedar().isAuthorizedPartial({
      principal: principal.uid,
      action: { type: ACTION_TYPE, id: action },
      resource: target.uid,
      context,
      entities: [principal, target],
      policies: { staticPolicies: candidates },
    });
    if (answer.type !== 'residuals') {
      // Cedar could not partially evaluate: treat every candidate as a condition (never a silent allow).
      const all = Object.keys(candidates).map((id) => ref(compiled, id));
      const permits = all.filter((p) => p.effect === 'permit');
      return { effect: permits.length > 0 ? 'allow' : 'none', policies: permits, conditions: all, approval: 'never' };
    }
    const { satisfied, errored, nontrivialResiduals } = answer.response;
    const effectOf = (id: string) => compiled.policies.get(id)!.effect;
    // An errored forbid denies (fmguard fails closed); one that holds whatever the context, too.
    const forbids = [...satisfied, ...errored].filter((id) => effectOf(id) === 'forbid');
    if (forbids.length > 0) return { effect: 'deny', policies: forbids.map((id) => ref(compiled, id)), conditions: [], approval: 'never' };
    const permits = [...satisfied, ...nontrivialResiduals].filter((id) => effectOf(id) === 'permit');
    if (permits.length === 0) return { effect: 'none', policies: [], conditions: [], approval: 'never' };
    const approvalAlways = satisfied.some((id) => compiled.policies.get(id)!.approval);
    const approvalSometimes = nontrivialResiduals.some((id) => compiled.policies.get(id)!.approval);
    return {
      effect: 'allow',
      policies: permits.map((id) => ref(compiled, id)),
      conditions: nontrivialResiduals.map((id) => ref(compiled, id)),
      approval: approvalAlways ? 'always' : approvalSometimes ? 'sometimes' : 'never',
    };
  };

  return {
    decide(agentName, action, resource) {
      const agent = agents.get(agentName);
      if (!agent) return { effect: 'none', policies: [], conditions: [], approval: 'never' };
      return evaluate(agent, [...compiled.globalIds, ...(compiled.agentIds.get(agentName) ?? [])], action, resource);
    },
    decideOrg(action, resource) {
      // Org-wide means: the global policies forbid it for every agent there is.
      const decisions = [...agents.values()].map((agent) => evaluate(agent, compiled.globalIds, action, resource));
      if (decisions.length > 0 && decisions.every((d) => d.effect === 'deny')) return decisions[0]!;
      return { effect: 'none', policies: [], conditions: [], approval: 'never' };
    },
  };
}

function ref(compiled: CompiledPolicies, id: string): PolicyRef {
  const p = compiled.policies.get(id)!;
  return { id, effect: p.effect, where: p.line > 0 ? `${p.source}:${p.line}` : p.source };
}
