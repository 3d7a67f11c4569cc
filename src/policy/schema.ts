import { renderInputType, type RecordType } from './input-types.ts';

/**
 * The Cedar schema fmguard ships. Namespace `Fmguard`:
 * - `Agent in [Tenant]` — the principal. Attributes `name` (the agent id), `tenant`; entity tags
 *   (String) carry labels such as who runs it (`principal.getTag("owner")`).
 * - `Model` — `name`, `provider`. `Tool in [ToolServer]` — `name` (`server.tool`), `server`, `tool`.
 * - `invokeModel` (Agent → Model) and `callTool` (Agent → Tool).
 * Cedar has no floats: spend is `runCostMicroUsd` (Long, micro-dollars, rounded up); tool
 * arguments typed `number` are `decimal` (compare with `.lessThan(decimal("5.5"))`).
 */
export const NAMESPACE = 'Fmguard';
export const AGENT_TYPE = `${NAMESPACE}::Agent`;
export const TENANT_TYPE = `${NAMESPACE}::Tenant`;
export const MODEL_TYPE = `${NAMESPACE}::Model`;
export const TOOL_TYPE = `${NAMESPACE}::Tool`;
export const TOOL_SERVER_TYPE = `${NAMESPACE}::ToolServer`;
export const ACTION_TYPE = `${NAMESPACE}::Action`;

/** The schema text for a deployment: fixed entities and actions, plus the tools' argument types. */
export function buildSchemaText(input: RecordType): string {
  return `namespace ${NAMESPACE} {
  entity Tenant;
  entity Agent in [Tenant] = { name: String, tenant: String } tags String;
  entity ToolServer;
  entity Tool in [ToolServer] = { name: String, server: String, tool: String } tags String;
  entity Model = { name: String, provider: String } tags String;

  // Arguments of every configured tool, each optional: test with \`context.input has x\`.
  type ToolInput = ${renderInputType(input)};

  action invokeModel appliesTo {
    principal: [Agent],
    resource: [Model],
    context: {
      maxTokens: Long,
      stream: Bool,
      runSteps: Long,
      runCostMicroUsd: Long,
      runDepth: Long,
      hourUtc: Long,
    }
  };

  action callTool appliesTo {
    principal: [Agent],
    resource: [Tool],
    context: {
      input: ToolInput,
      runSteps: Long,
      runCostMicroUsd: Long,
      runDepth: Long,
      hourUtc: Long,
    }
  };
}
`;
}

/** Context attribute names per action, as the schema declares them (used for partial evaluation). */
export const CONTEXT_KEYS = {
  invokeModel: ['maxTokens', 'stream', 'runSteps', 'runCostMicroUsd', 'runDepth', 'hourUtc'],
  callTool: ['input', 'runSteps', 'runCostMicroUsd', 'runDepth', 'hourUtc'],
} as const;
