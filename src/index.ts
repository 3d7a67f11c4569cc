/**
 * fmguard — hard boundaries for foundation-model agents.
 *
 * The SDK: `createGuard(config)` gives runs; calls made through a run are limited, budgeted, timed
 * out, retried, loop-checked and stoppable. See README.md for the shortest path to a working result.
 */
export { createGuard, Guard, openStore, type CreateGuardOptions, type StartRunOptions } from './runtime/guard.ts';
export { Run, type RunUsage } from './runtime/run.ts';
export type { GuardedStream, ModelCallOptions, ModelCallResult, ModelStreamResult } from './runtime/model-call.ts';
export type { ToolCallOptions, ToolCallResult } from './runtime/tool-call.ts';
export type { GuardEvent, GuardEventListener } from './runtime/events.ts';
export type { Authorizer, AuthorizeDecision, AuthorizeRequest } from './runtime/context.ts';
export { GuardError, type GuardErrorDetails } from './core/errors.ts';
export { STOP_CODES, ALL_STOP_CODES, isStopCode, shouldRetry, type StopCode } from './core/codes.ts';
export { systemClock, type Clock } from './core/clock.ts';
export type { ChatRequest, ChatResponse, ChatChunk, ChatMessage, ChatContentPart, ChatTool, ChatToolCall, FinishReason, Usage } from './core/chat.ts';
export { parseConfig, parseConfigText, loadConfigFile } from './config/load.ts';
export { ConfigError, type ConfigProblem } from './config/problems.ts';
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type FmguardConfig, type Limits } from './config/resolve.ts';
export type { ConfigInput } from './config/schema.ts';
export { describeConfig } from './config/mask.ts';
export type { ModelProvider, ProviderCallOptions } from './providers/provider.ts';
export { ProviderError } from './providers/provider.ts';
export { createSimModel, type SimModel, type SimModelOptions } from './sim/sim-model.ts';
export { startSimServer, type SimServer, type SimServerOptions } from './sim/sim-server.ts';
export { toolFunctionName, toolResourceName } from './core/tool-names.ts';
export type { ToolCallViolation } from './runtime/proposed-tools.ts';
export { createDemoToolServer, createDemoWorld, type DemoWorld } from './demo-tools/index.ts';
export { FMGUARD_JSONRPC_ERROR, isToolResultCode, refusalResult, stopData } from './mcp/refusals.ts';
export { createMemoryStore } from './stores/memory/index.ts';
export { createSqliteStore } from './stores/sqlite/index.ts';
export type { Store } from './stores/store.ts';
