import { escapeCedarString, likePattern } from './cedar-text.ts';
import { ACTION_TYPE, AGENT_TYPE, MODEL_TYPE, TOOL_TYPE } from './schema.ts';
import type { AgentPolicySpec, PolicyProblem } from './types.ts';

/**
 * The config shorthand (`allow` / `deny` / `approve` lists) compiled to Cedar. allow → permit,
 * deny → forbid, approve → permit annotated `@approval("required")`. An exact name becomes
 * `resource == Fmguard::Tool::"demo.search"`; a pattern with `*` becomes
 * `resource.name like "demo.read_*"` (Cedar cannot glob entity ids, and tools are often only
 * discovered at run time, so enumerating them is not an option); `*` alone puts no condition on the
 * resource. Ids are `agent:<agent>:<list>:<models|tools>:<pattern>`, stable when lists are reordered.
 */
export interface GeneratedPolicy {
  readonly id: string;
  readonly text: string;
  /** The config path it came from, e.g. `agents.bot.allow.tools[1]`. */
  readonly origin: string;
  /**
   * For an agent's shorthand: the same policy written for the placeholder agent `SELF` (id and text).
   * Agents with the same entry share it, so it is validated, converted to JSON and partially
   * evaluated once for all of them (the text differs from `text` only in the agent's id).
   */
  readonly template?: { readonly id: string; readonly text: string; readonly agent: string };
}

/** The placeholder agent of shorthand templates. */
export const SELF = '*self*';

const LISTS = [
  ['allow', 'permit', false],
  ['approve', 'permit', true],
  ['deny', 'forbid', false],
] as const;

const KINDS = [
  ['models', 'invokeModel', MODEL_TYPE],
  ['tools', 'callTool', TOOL_TYPE],
] as const;

export function shorthandPolicies(agent: AgentPolicySpec, problems: PolicyProblem[] = []): GeneratedPolicy[] {
  const out: GeneratedPolicy[] = [];
  const seen = new Set<string>();
  const principalOf = (agentId: string) => `principal == ${AGENT_TYPE}::"${escapeCedarString(agentId)}"`;
  const principal = principalOf(agent.id);
  const self = principalOf(SELF);
  for (const [list, effect, approval] of LISTS) {
    for (const [kind, action, type] of KINDS) {
      agent[list]?.[kind]?.forEach((pattern, i) => {
        const origin = `agents.${agent.id}.${list}.${kind}[${i}]`;
        const problem = checkPattern(kind, pattern);
        if (problem) {
          problems.push({ severity: 'error', source: origin, message: problem });
          return;
        }
        const idOf = (agentId: string) => `agent:${agentId}:${list}:${kind}:${pattern}`;
        const id = idOf(agent.id);
        if (seen.has(id)) return; // a repeated entry adds nothing
        seen.add(id);
        let resource = 'resource';
        let when = '';
        if (pattern === '*') resource = 'resource';
        else if (pattern.includes('?')) when = `\nwhen { resource.hasTag("${escapeCedarString(pattern)}") }`;
        else if (pattern.includes('*')) when = `\nwhen { resource.name like "${likePattern(pattern)}" }`;
        else resource = `resource == ${type}::"${escapeCedarString(pattern)}"`;
        const textOf = (policyId: string, scope: string) =>
          `@id("${escapeCedarString(policyId)}")\n${approval ? '@approval("required")\n' : ''}${effect} (\n  ${scope},\n  action == ${ACTION_TYPE}::"${action}",\n  ${resource}\n)${when};`;
        const templateId = idOf(SELF);
        out.push({ id, text: textOf(id, principal), origin, template: { id: templateId, text: textOf(templateId, self), agent: agent.id } });
      });
    }
  }
  return out;
}

function checkPattern(kind: 'models' | 'tools', pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'expected a non-empty name or pattern';
  if (kind === 'tools' && pattern !== '*' && !pattern.includes('.')) {
    return `expected a tool as server.tool (e.g. "demo.${pattern}" or "${pattern}.*"), got "${pattern}"`;
  }
  return undefined;
}

/** What `fmguard policy compile` prints for one agent: its shorthand as Cedar. */
export function compileShorthand(agent: AgentPolicySpec): string {
  const policies = shorthandPolicies(agent);
  const header = `// agent "${agent.id}": compiled from the config shorthand (allow / approve / deny)\n`;
  if (policies.length === 0) return `${header}// (no shorthand entries: the agent is denied everything its Cedar files do not permit)\n`;
  return `${header}\n${policies.map((p) => p.text).join('\n\n')}\n`;
}

/**
 * The org's allow ceiling (an SCP) as org-wide forbids: for each kind it lists, a forbid on every
 * model or tool outside its patterns. So an agent's permit outside it is never effective:
 * effective = agent allows ∩ ceiling − forbids (IAM vector I11). A kind not listed is not limited;
 * an empty list allows nothing of that kind.
 */
export function ceilingPolicies(ceiling: { models?: readonly string[]; tools?: readonly string[] } | undefined): GeneratedPolicy[] {
  const out: GeneratedPolicy[] = [];
  if (!ceiling) return out;
  for (const [kind, action] of KINDS) {
    const patterns = ceiling[kind];
    if (!patterns || patterns.includes('*')) continue;
    const id = `ceiling:${kind}`;
    const inside = patterns.map((p) => resourceMatch(p, kind === 'models' ? MODEL_TYPE : TOOL_TYPE));
    const unless = inside.length > 0 ? `\nunless { ${inside.join(' || ')} }` : '';
    out.push({
      id,
      text: `@id("${id}")\nforbid (\n  principal,\n  action == ${ACTION_TYPE}::"${action}",\n  resource\n)${unless};`,
      origin: `ceiling.${kind}`,
    });
  }
  return out;
}

/** A Cedar condition that holds when the resource matches one allow-list pattern. */
function resourceMatch(pattern: string, type: string): string {
  if (pattern.includes('?')) return `resource.hasTag("${escapeCedarString(pattern)}")`;
  if (pattern.includes('*')) return `resource.name like "${likePattern(pattern)}"`;
  return `resource == ${type}::"${escapeCedarString(pattern)}"`;
}

/** The allow-list patterns with `?` (Cedar has no such wildcard): entities carry a tag for each one they match. */
export function globPatterns(spec: { agents: readonly AgentPolicySpec[]; ceiling?: { models?: readonly string[]; tools?: readonly string[] } }): string[] {
  const out = new Set<string>();
  const add = (list: readonly unknown[] | undefined) => list?.forEach((p) => typeof p === 'string' && p.includes('?') && out.add(p));
  for (const agent of spec.agents) for (const [list] of LISTS) for (const [kind] of KINDS) add(agent[list]?.[kind]);
  for (const [kind] of KINDS) add(spec.ceiling?.[kind]);
  return [...out];
}
