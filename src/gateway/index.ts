/** The OpenAI-compatible HTTP gateway (data plane). */
export { createGatewayServer, DEFAULT_MAX_BODY_BYTES, type Gateway, type GatewayAddress, type GatewayOptions } from './gateway.ts';
export type { AccessEntry, AccessLogSink } from './access-log.ts';
export type { GatewayErrorContext } from './context.ts';
export { errorBody, errorHeaders, type GatewayErrorBody } from '../http/error-response.ts';
export type { ToolCallCheck, ToolCallViolation } from './tool-calls.ts';
