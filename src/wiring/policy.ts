import type { FmguardConfig } from '../config/resolve.ts';
import { createPolicyEngine, type Decision, type PolicyEngine, type PolicySpec, type ToolServerSpec } from '../policy/index.ts';
import type { Authorizer, AuthorizeDecision, AuthorizeRequest } from '../runtime/context.ts';
import type { GuardEvent } from '../runtime/events.ts';

/** The policy engine's input, from the config: shorthand, Cedar files, models and known tools. */
export function policySpecFromConfig(config: FmguardConfig, extraToolServers: readonly ToolServerSpec[] = []): PolicySpec {
  const toolServers: ToolServerSpec[] = Object.entries(config.toolServers).map(([name, server]) => ({
    name,
    tools: Object.entries(server.tools ?? {}).map(([tool, spec]) => ({ name: tool, inputSchema: spec.inputSchema })),
  }));
  for (const extra of extraToolServers) {
    const existing = toolServers.find((s) => s.name === extra.name);
    if (!existing) toolServers.push(extra);
    else if ((existing.tools ?? []).length === 0) toolServers[toolServers.indexOf(existing)] = extra;
  }
  return {
    agents: Object.values(config.agents).map((agent) => ({
      id: agent.name,
      tenant: agent.tenant,
      allow: agent.allow,
      deny: agent.deny,
      approve: agent.approve,
      policies: agent.policyFiles,
      mode: agent.policyMode,
    })),
    global: config.globalPolicyFiles,
    ceiling: config.ceiling,
    models: Object.values(config.models).map((m) => ({ name: m.name, provider: m.provider })),
    toolServers,
  };
}

/** Build the engine; a malformed or schema-invalid policy throws here, at startup, with file:line. */
export function openPolicyEngine(config: FmguardConfig, extraToolServers?: readonly ToolServerSpec[]): PolicyEngine {
  const engine = createPolicyEngine(policySpecFromConfig(config, extraToolServers));
  engine.warm();
  return engine;
}

function toAuthorize(decision: Decision): AuthorizeDecision {
  if (decision.effect === 'deny') return { effect: 'deny', policies: [...decision.policies], reason: decision.reason };
  return { effect: decision.effect, policies: [...decision.policies] };
}

/**
 * The runtime's view of the engine. Shadow-mode agents get `allow` whatever the policy says, and
 * the real decision is reported as a `policy.shadow` event.
 */
export function engineAuthorizer(
  engine: PolicyEngine,
  emit: (event: GuardEvent) => void,
  now: () => number,
): Authorizer & { mayAllow(request: Omit<AuthorizeRequest, 'context'>): boolean } {
  return {
    authorize(request: AuthorizeRequest): AuthorizeDecision {
      const decision = engine.decide(request as never);
      if (!decision.shadow) return toAuthorize(decision);
      if (decision.effect !== 'allow') {
        emit({
          type: 'policy.shadow',
          at: now(),
          agent: request.agent,
          tenant: request.tenant,
          action: request.action,
          resource: request.resource,
          effect: decision.effect,
          policies: [...decision.policies],
        });
      }
      return { effect: 'allow', policies: [...decision.policies] };
    },
    /** For `tools/list`: could any arguments make the call allowed. A shadow-mode agent sees everything. */
    mayAllow(request: Omit<AuthorizeRequest, 'context'>): boolean {
      if (engine.isShadow(request.agent)) return true;
      return engine.mayAllow(request.agent, request.tenant, request.action as never, request.resource);
    },
  };
}
