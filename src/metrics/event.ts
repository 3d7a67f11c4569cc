import type { StopCode } from '../core/codes.ts';

/**
 * How a call ended. `refused`: fmguard stopped it before upstream (any stop code); `error` and
 * `timeout`: it reached upstream and failed.
 */
export type CallOutcome = 'success' | 'error' | 'timeout' | 'refused';

/** One model or tool call, as the runtime reports it after the call (or the refusal). */
export interface CallEvent {
  tenant?: string;
  agent?: string;
  /** Model calls: the model and its provider. */
  model?: string;
  provider?: string;
  /** Tool calls: the tool (`<server>.<tool>`) and its server. */
  tool?: string;
  server?: string;
  outcome: CallOutcome;
  /** The stop code for `refused` (required to count refusals by code), `error` and `timeout`. */
  code?: StopCode;
  latencyMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

/** The scope keys an event counts in: always `global`, plus one per named dimension. */
export function eventScopes(event: CallEvent): string[] {
  const scopes = ['global'];
  if (event.tenant !== undefined) scopes.push(`tenant:${event.tenant}`);
  if (event.agent !== undefined) scopes.push(`agent:${event.agent}`);
  if (event.model !== undefined) scopes.push(`model:${event.model}`);
  if (event.provider !== undefined) scopes.push(`provider:${event.provider}`);
  if (event.server !== undefined) scopes.push(`server:${event.server}`);
  if (event.tool !== undefined) scopes.push(`tool:${event.tool}`);
  return scopes;
}
