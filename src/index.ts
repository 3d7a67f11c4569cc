/**
 * fmguard — hard boundaries for foundation-model agents.
 *
 * The SDK: `createGuard(config)` gives runs; calls made through a run are limited, budgeted, timed
 * out, retried, loop-checked and stoppable. See README.md for the shortest path to a working result.
 *
 * Importing this loads no database driver, no Prometheus client and no policy engine: the SQLite
 * driver loads when a SQLite store is opened, ioredis and pg when the config names Redis or
 * Postgres, cedar-wasm when a guard builds its policy engine. Backends have their own entry points
 * (`fmguard/sqlite`, `fmguard/redis`, `fmguard/postgres`), and so do the gateway (`fmguard/gateway`),
 * the MCP gateway (`fmguard/mcp`) and the test fakes (`fmguard/testing`).
 */
export { createGuard, type CreateGuardOptions } from './wiring/guard.ts';
export { openStore } from './wiring/store.ts';
export { Guard, type StartRunOptions } from './runtime/guard.ts';
export { Run, type RunUsage } from './runtime/run.ts';
export type { GuardedStream, ModelCallOptions, ModelCallResult, ModelStreamResult } from './runtime/model-types.ts';
export type { ToolCallOptions, ToolCallResult } from './runtime/call-tool.ts';
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
export { createSimModel, type SimModel, type SimModelOptions } from './providers/simulated/sim-model.ts';
export { createMemoryStore, type MemoryStoreOptions } from './backends/memory/index.ts';
// The default backend; its driver (better-sqlite3) loads when a store is opened. Also at fmguard/sqlite.
export { createSqliteStore, type SqliteStoreOptions } from './backends/sqlite/index.ts';
export type { Store } from './store/store.ts';
