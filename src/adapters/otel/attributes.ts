/**
 * Span attribute names: the OpenTelemetry GenAI semantic conventions (gen_ai.*, error.type) and
 * fmguard's own (fmguard.*). Written out rather than imported so only `@opentelemetry/api` is needed.
 */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  toolName: 'gen_ai.tool.name',
  agentName: 'gen_ai.agent.name',
  conversationId: 'gen_ai.conversation.id',
} as const;

export const ERROR_TYPE = 'error.type';

export const FMGUARD = {
  runId: 'fmguard.run.id',
  parentRunId: 'fmguard.run.parent_id',
  depth: 'fmguard.run.depth',
  tenant: 'fmguard.tenant',
  stopCode: 'fmguard.stop_code',
  costUsd: 'fmguard.cost_usd',
  decision: 'fmguard.decision',
  attempts: 'fmguard.attempts',
  servedBy: 'fmguard.served_by',
  streamed: 'fmguard.streamed',
  cachedInputTokens: 'fmguard.usage.cached_input_tokens',
} as const;

/** Operation names of the GenAI conventions fmguard's spans use. */
export const OPERATION = { agent: 'invoke_agent', chat: 'chat', tool: 'execute_tool' } as const;
