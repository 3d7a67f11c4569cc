import type { AgentPolicySpec, PolicyProblem, PolicySpec } from './types.ts';

/** Spec-level faults (duplicate names, missing tenants) and likely typos in shorthand names. */
export function checkSpec(spec: PolicySpec, problems: PolicyProblem[]): void {
  const dup = (what: string, names: readonly string[], source: string): void => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) problems.push({ severity: 'error', source, message: `duplicate ${what} "${n}"` });
      seen.add(n);
    }
  };
  dup(
    'agent',
    spec.agents.map((a) => a.id),
    'agents',
  );
  dup(
    'model',
    (spec.models ?? []).map((m) => m.name),
    'models',
  );
  dup(
    'tool server',
    (spec.toolServers ?? []).map((s) => s.name),
    'toolServers',
  );
  for (const a of spec.agents) {
    if (!a.id) problems.push({ severity: 'error', source: 'agents', message: 'an agent needs a non-empty id' });
    if (!a.tenant) problems.push({ severity: 'error', source: `agents.${a.id}`, message: 'an agent needs a tenant' });
  }
}

/** A shorthand entry naming a model or tool the spec does not know is probably a typo. */
export function warnUnknownNames(spec: PolicySpec, agent: AgentPolicySpec, problems: PolicyProblem[]): void {
  const models = new Set((spec.models ?? []).map((m) => m.name));
  const servers = new Map((spec.toolServers ?? []).map((s) => [s.name, s.tools ? new Set(s.tools.map((t) => t.name)) : undefined]));
  for (const list of ['allow', 'approve', 'deny'] as const) {
    agent[list]?.models?.forEach((name, i) => {
      if (typeof name === 'string' && !name.includes('*') && models.size > 0 && !models.has(name)) {
        problems.push({ severity: 'warning', source: `agents.${agent.id}.${list}.models[${i}]`, message: `no model named "${name}" is configured` });
      }
    });
    agent[list]?.tools?.forEach((name, i) => {
      if (typeof name !== 'string' || !name.includes('.')) return;
      const dot = name.indexOf('.');
      const server = name.slice(0, dot);
      if (server.includes('*') || spec.toolServers === undefined) return;
      const tools = servers.get(server);
      const source = `agents.${agent.id}.${list}.tools[${i}]`;
      if (!servers.has(server)) problems.push({ severity: 'warning', source, message: `no tool server named "${server}" is configured` });
      else if (tools && !name.includes('*') && !tools.has(name.slice(dot + 1)))
        problems.push({ severity: 'warning', source, message: `tool server "${server}" declares no tool "${name.slice(dot + 1)}"` });
    });
  }
}
