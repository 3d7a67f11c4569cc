import type { Guard } from '../runtime/guard.ts';
import type { ToolCallViolation } from './tool-calls.ts';

/** Where an unexpected error happened, for the `onError` hook. */
export interface GatewayErrorContext {
  method: string;
  path: string;
  runId?: string;
}

/** What every handler needs; built once by `createGateway`. */
export interface GatewayContext {
  readonly guard: Guard;
  readonly maxBodyBytes: number;
  readonly toolCallViolation: ToolCallViolation;
  readonly readyTimeoutMs: number;
  hasModel(name: string): boolean;
  /** Unexpected errors (a bug, never a refusal) go to the `onError` hook; the library never logs. */
  report(error: unknown, where: GatewayErrorContext): void;
  /** Work that goes on after a response (a run of its own ending): a shutdown waits for it before the guard closes. */
  track(work: Promise<unknown>): void;
}
