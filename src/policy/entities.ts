import type { EntityJson } from './cedar.ts';
import { AGENT_TYPE, MODEL_TYPE, TENANT_TYPE, TOOL_SERVER_TYPE, TOOL_TYPE } from './schema.ts';
import type { AgentPolicySpec, ModelSpec } from './types.ts';

/**
 * Cedar entities for one request: the agent and the resource. Tenant and ToolServer carry no
 * attributes, so they appear only as parents (`principal in Fmguard::Tenant::"acme"` still works).
 */
export function agentEntity(agent: AgentPolicySpec): EntityJson {
  const entity: EntityJson = {
    uid: { type: AGENT_TYPE, id: agent.id },
    attrs: { name: agent.id, tenant: agent.tenant },
    parents: [{ type: TENANT_TYPE, id: agent.tenant }],
  };
  if (agent.tags) entity.tags = { ...agent.tags };
  return entity;
}

/** A model fmguard does not know still gets an entity (provider ""), so policies decide, not a crash. */
export function modelEntity(name: string, model: ModelSpec | undefined, globs: readonly string[] = []): EntityJson {
  return withGlobTags({ uid: { type: MODEL_TYPE, id: name }, attrs: { name, provider: model?.provider ?? '' }, parents: [] }, name, globs);
}

/** Tools are `server.tool`; the server is everything before the first dot. */
export function toolEntity(name: string, globs: readonly string[] = []): EntityJson {
  const dot = name.indexOf('.');
  const server = dot === -1 ? '' : name.slice(0, dot);
  const tool = dot === -1 ? name : name.slice(dot + 1);
  return withGlobTags(
    {
      uid: { type: TOOL_TYPE, id: name },
      attrs: { name, server, tool },
      parents: server ? [{ type: TOOL_SERVER_TYPE, id: server }] : [],
    },
    name,
    globs,
  );
}

/**
 * Cedar's `like` has `*` but no `?`. Allow-list patterns with `?` (exactly one character, as in IAM)
 * are matched here, and each one the name matches becomes a tag the generated policy tests
 * (`resource.hasTag("demo.read_??le")`).
 */
function withGlobTags(entity: EntityJson, name: string, globs: readonly string[]): EntityJson {
  const tags: Record<string, string> = {};
  for (const glob of globs) if (globMatches(glob, name)) tags[glob] = 'match';
  if (Object.keys(tags).length > 0) entity.tags = tags;
  return entity;
}

/** IAM-style wildcards: `*` any run of characters (none included), `?` exactly one character. */
export function globMatches(glob: string, name: string): boolean {
  const source = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'su').test(name);
}
