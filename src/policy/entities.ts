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
export function modelEntity(name: string, model: ModelSpec | undefined): EntityJson {
  return { uid: { type: MODEL_TYPE, id: name }, attrs: { name, provider: model?.provider ?? '' }, parents: [] };
}

/** Tools are `server.tool`; the server is everything before the first dot. */
export function toolEntity(name: string): EntityJson {
  const dot = name.indexOf('.');
  const server = dot === -1 ? '' : name.slice(0, dot);
  const tool = dot === -1 ? name : name.slice(dot + 1);
  return {
    uid: { type: TOOL_TYPE, id: name },
    attrs: { name, server, tool },
    parents: server ? [{ type: TOOL_SERVER_TYPE, id: server }] : [],
  };
}
