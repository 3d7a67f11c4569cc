export { createMcpHandler, DEFAULT_MAX_RESULT_BYTES, type McpHandler, type McpHandlerOptions, type McpMode } from './handler.ts';
export { FMGUARD_JSONRPC_ERROR, isToolResultCode, refusalResult } from './refusals.ts';
export { truncateResult } from './truncate.ts';
export { visibleTools } from './list-tools.ts';
export { ClientUpstream, type ClientUpstreamOptions, type Connection } from './upstreams/client-upstream.ts';
export { connectHttp, connectInProcess, connectStdio } from './upstreams/connectors.ts';
export { upstreamsFromConfig, type UpstreamBuildOptions } from './upstreams/from-config.ts';
export type { BackoffOptions } from './upstreams/backoff.ts';
export type { Upstream, UpstreamKind, UpstreamState, UpstreamStatus } from './upstreams/upstream.ts';
