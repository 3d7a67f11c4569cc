import { cedar, type PolicyJson, type Schema } from './cedar.ts';
import { buildInputType, type RecordType } from './input-types.ts';
import { AGENT_TYPE, buildSchemaText } from './schema.ts';
import { ceilingPolicies, globPatterns, shorthandPolicies } from './shorthand.ts';
import { checkSpec, warnUnknownNames } from './spec-checks.ts';
import type { PolicyProblem, PolicySource, PolicySpec } from './types.ts';
import { loadSource, parseAndValidate, validateGenerated, type ParsedPolicy } from './validate.ts';

/** One policy after parsing, validation and (for agent policies) scoping to its agent. */
export interface CompiledPolicy {
  readonly id: string;
  /** The policy as the whole deployment's set holds it: an agent policy's principal pinned to it. */
  readonly json: PolicyJson;
  /**
   * Its source text, as evaluated within its agent's slice (where the principal is always that
   * agent, so pinning changes nothing); cedar-wasm takes text faster than JSON.
   */
  readonly text: string;
  readonly effect: 'permit' | 'forbid';
  /** A permit annotated `@approval`: matching it means "approval required". */
  readonly approval: boolean;
  /** Any condition reads `context`, so its outcome can change between requests. */
  readonly readsContext: boolean;
  /** The owning agent, or undefined for a global policy. */
  readonly agent?: string;
  readonly source: string;
  /** 1-based line in `source`; 0 for generated (shorthand) policies. */
  readonly line: number;
  /** For shorthand: the same entry for the placeholder agent, shared by every agent with it. */
  readonly template?: { readonly id: string; readonly text: string };
}

export interface CompiledPolicies {
  readonly schemaText: string;
  readonly inputType: RecordType;
  /** Every policy by id, global ones first. */
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
  readonly globalIds: readonly string[];
  readonly agentIds: ReadonlyMap<string, readonly string[]>;
  readonly problems: readonly PolicyProblem[];
  /** Allow-list patterns with `?`: resource entities carry a tag for each one they match. */
  readonly globs: readonly string[];
}

/** Parse, validate against the schema, scope and id every policy in the spec; collect all problems. */
export function compilePolicies(spec: PolicySpec): CompiledPolicies {
  const problems: PolicyProblem[] = [];
  checkSpec(spec, problems);
  const inputType = buildInputType(spec.toolServers ?? [], problems);
  const schemaText = buildSchemaText(inputType);
  // Parsed once: validating against the JSON form skips re-parsing the schema text per call.
  const parsedSchema = cedar().schemaToJson(schemaText);
  if (parsedSchema.type === 'failure') {
    for (const e of parsedSchema.errors) problems.push({ severity: 'error', source: 'fmguard schema', message: e.message });
  }
  const schema: Schema = parsedSchema.type === 'success' ? parsedSchema.json : schemaText;

  const policies = new Map<string, CompiledPolicy>();
  const add = (p: CompiledPolicy, column: number): boolean => {
    if (policies.has(p.id)) {
      problems.push({
        severity: 'error',
        source: p.source,
        line: p.line || undefined,
        column: p.line ? column : undefined,
        policyId: p.id,
        message: `duplicate policy id "${p.id}"`,
        help: 'give each policy a distinct @id("...")',
      });
      return false;
    }
    policies.set(p.id, p);
    return true;
  };

  // A file shared by several agents is read, parsed and validated once.
  const parsedSources = new Map<string, { name: string; parsed: ParsedPolicy[] }>();
  const parseSource = (source: PolicySource): { name: string; parsed: ParsedPolicy[] } => {
    const key = typeof source === 'string' ? `file:${source}` : `text:${source.name}`;
    let entry = parsedSources.get(key);
    if (!entry) {
      const loaded = loadSource(source, spec.baseDir, problems);
      entry = { name: loaded.name, parsed: loaded.text === undefined ? [] : parseAndValidate(loaded.name, loaded.text, schema, problems) };
      parsedSources.set(key, entry);
    }
    return entry;
  };

  const globalIds: string[] = [];
  for (const source of spec.global ?? []) {
    const { name, parsed } = parseSource(source);
    for (const p of parsed) {
      const id = annotationId(p.json) ?? `${name}#${p.index}`;
      if (add(compiled(id, p.json, p.text, undefined, name, p.line), p.column)) globalIds.push(id);
    }
  }

  // The org's allow ceiling: org-wide forbids on everything outside it.
  const ceiling = ceilingPolicies(spec.ceiling);
  validateGenerated(ceiling, schema, problems).forEach((json, i) => {
    const g = ceiling[i]!;
    if (json && add(compiled(g.id, json, g.text, undefined, g.origin, 0), 0)) globalIds.push(g.id);
  });

  const generated = spec.agents.flatMap((agent) => shorthandPolicies(agent, problems).map((g) => ({ agent: agent.id, g })));
  const generatedJson = validateGenerated(
    generated.map((x) => x.g),
    schema,
    problems,
  );
  // Each agent's generated policies, in order (one pass, not one per agent).
  const generatedOf = new Map<string, number[]>();
  generated.forEach(({ agent }, i) => {
    const list = generatedOf.get(agent);
    if (list) list.push(i);
    else generatedOf.set(agent, [i]);
  });
  const agentIds = new Map<string, readonly string[]>();
  for (const agent of spec.agents) {
    const ids: string[] = [];
    for (const i of generatedOf.get(agent.id) ?? []) {
      const { g } = generated[i]!;
      const json = generatedJson[i];
      if (json && add(compiled(g.id, json, g.text, agent.id, g.origin, 0, g.template), 0)) ids.push(g.id);
    }
    warnUnknownNames(spec, agent, problems);
    for (const source of agent.policies ?? []) {
      const { name, parsed } = parseSource(source);
      for (const p of parsed) {
        const id = `agent:${agent.id}:${annotationId(p.json) ?? `${name}#${p.index}`}`;
        const json = scopeToAgent(p.json, agent.id);
        if (!json) {
          problems.push({
            severity: 'error',
            source: name,
            line: p.line,
            column: p.column,
            policyId: id,
            message: `a policy in agent "${agent.id}"'s files must apply to that agent only`,
            help: `write \`principal\` or \`principal == ${AGENT_TYPE}::"${agent.id}"\`; org-wide rules belong in the global policies`,
          });
          continue;
        }
        if (add(compiled(id, json, p.text, agent.id, name, p.line), p.column)) ids.push(id);
      }
    }
    agentIds.set(agent.id, ids);
  }
  return { schemaText, inputType, policies, globalIds, agentIds, problems, globs: globPatterns(spec) };
}

function compiled(
  id: string,
  json: PolicyJson,
  text: string,
  agent: string | undefined,
  source: string,
  line: number,
  template?: { id: string; text: string },
): CompiledPolicy {
  const annotations = json.annotations ?? {};
  return {
    id,
    json,
    text,
    effect: json.effect,
    approval: json.effect === 'permit' && Object.hasOwn(annotations, 'approval'),
    readsContext: json.conditions.some((c) => mentionsContext(c.body)),
    agent,
    source,
    line,
    template: template && { id: template.id, text: template.text },
  };
}

function annotationId(json: PolicyJson): string | undefined {
  const id = json.annotations?.id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** Whether an expression tree reads `context` anywhere. */
export function mentionsContext(node: unknown): boolean {
  return mentionsVar(node, 'context');
}

/** Whether an expression tree reads the variable `name` (`principal`, `context`, ...) anywhere. */
export function mentionsVar(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => mentionsVar(n, name));
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Var' && value === name) return true;
    if (key !== 'Value' && mentionsVar(value, name)) return true;
  }
  return false;
}

/**
 * An agent's own policy, with its principal pinned to that agent, so the policy means the same in the
 * agent's slice and in the whole deployment's set. Undefined when it names some other principal.
 */
function scopeToAgent(json: PolicyJson, agentId: string): PolicyJson | undefined {
  const pinned: PolicyJson = { ...json, principal: { op: '==', entity: { type: AGENT_TYPE, id: agentId } } };
  const p = json.principal;
  if (p.op === 'All') return pinned;
  if (p.op === 'is') return p.entity_type === AGENT_TYPE && !p.in ? pinned : undefined;
  if (p.op === '==' && 'entity' in p) {
    const uid = '__entity' in p.entity ? p.entity.__entity : p.entity;
    return uid.type === AGENT_TYPE && uid.id === agentId ? pinned : undefined;
  }
  return undefined;
}
