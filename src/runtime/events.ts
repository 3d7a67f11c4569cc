import type { StopCode } from '../core/codes.ts';
import type { Usage } from '../core/chat.ts';
import type { RunRecord } from '../store/store.ts';

export type GuardAction = 'invokeModel' | 'callTool';

/** Who made a call, as every event reports it. */
export interface CallSubject {
  runId?: string;
  agent?: string;
  tenant?: string;
  keyId?: string;
  action: GuardAction;
  /** Model name or tool name. */
  resource: string;
}

/**
 * Everything the runtime decides is reported as one of these typed events (the library never logs).
 * Metrics, alarms and the audit log subscribe to them.
 */
export type GuardEvent =
  | { type: 'run.started'; at: number; run: RunRecord }
  | { type: 'run.stopped'; at: number; runId: string; agent: string; tenant: string; code: StopCode; reason: string }
  /** A run ended normally by its owner (`run.end()`, or a gateway call's run of its own finishing). */
  | { type: 'run.ended'; at: number; runId: string; agent: string; tenant: string }
  /** A run could not be started or resumed for a known agent (a foreign run or parent, a bad id, depth); ids as the client gave them. */
  | { type: 'run.refused'; at: number; runId?: string; parentId?: string; agent: string; tenant: string; keyId?: string; code: StopCode; message: string }
  | (CallSubject & {
      type: 'call.allowed';
      at: number;
      usage: Usage;
      costUsd: number;
      latencyMs: number;
      attempts: number;
      /** The output cap sent upstream, after clamping. */
      maxTokens?: number;
      /** Set when the primary model's breaker sent the call elsewhere. */
      servedBy?: string;
      streamed?: boolean;
      args?: unknown;
      /** The upstream's own request id (Bedrock's `x-amzn-requestid`), when the provider reports one. */
      upstreamRequestId?: string;
    })
  | (CallSubject & {
      type: 'call.refused';
      at: number;
      code: StopCode;
      message: string;
      details: Record<string, unknown>;
      args?: unknown;
    })
  | (CallSubject & {
      type: 'call.failed';
      at: number;
      code: StopCode;
      message: string;
      usage?: Usage;
      costUsd: number;
      latencyMs: number;
      attempts: number;
      args?: unknown;
      upstreamRequestId?: string;
    })
  | (CallSubject & { type: 'retry'; at: number; attempt: number; code: StopCode; delayMs: number })
  | { type: 'budget.threshold'; at: number; scope: string; period: string; window: string; threshold: number; usedUsd: number; limitUsd: number }
  | { type: 'kill'; at: number; scope: string; on: boolean; reason?: string; by?: string }
  | { type: 'breaker.changed'; at: number; scope: string; from: string; to: string; reason?: string }
  | { type: 'alarm.changed'; at: number; alarm: string; from: string; to: string; reason?: string }
  | (CallSubject & { type: 'policy.shadow'; at: number; effect: string; policies: string[] });

export type GuardEventListener = (event: GuardEvent) => void;
