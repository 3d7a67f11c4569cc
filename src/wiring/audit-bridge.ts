import type { AuditLog, AuditRecord } from '../audit/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { GuardEvent } from '../runtime/events.ts';

/** A guard event as an audit record (one event per decision; tool arguments under details.args). */
export function toAuditRecord(event: GuardEvent): AuditRecord | undefined {
  switch (event.type) {
    case 'run.started':
      return {
        type: 'run.started',
        time: event.at,
        run: event.run.id,
        agent: event.run.agent,
        tenant: event.run.tenant,
        details: { parent: event.run.parentId, depth: event.run.depth },
      };
    case 'run.stopped':
      return {
        type: 'run.stopped',
        time: event.at,
        run: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        code: event.code,
        details: { reason: event.reason },
      };
    case 'run.refused':
      return {
        type: 'run.refused',
        time: event.at,
        agent: event.agent,
        tenant: event.tenant,
        code: event.code,
        details: { keyId: event.keyId, message: event.message, requestedRun: event.runId, requestedParent: event.parentId },
      };
    case 'call.allowed':
      return {
        type: 'call.allowed',
        time: event.at,
        run: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        action: event.action,
        resource: event.resource,
        usage: { inputTokens: event.usage.inputTokens, outputTokens: event.usage.outputTokens, cachedTokens: event.usage.cachedInputTokens },
        costUsd: event.costUsd,
        details: {
          keyId: event.keyId,
          latencyMs: event.latencyMs,
          attempts: event.attempts,
          maxTokens: event.maxTokens,
          servedBy: event.servedBy,
          streamed: event.streamed,
          args: event.args,
          upstreamRequestId: event.upstreamRequestId,
        },
      };
    case 'call.refused':
      return {
        type: 'call.refused',
        time: event.at,
        run: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        code: event.code,
        action: event.action,
        resource: event.resource,
        details: { keyId: event.keyId, message: event.message, ...event.details, args: event.args },
      };
    case 'call.failed':
      return {
        type: 'call.failed',
        time: event.at,
        run: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        code: event.code,
        action: event.action,
        resource: event.resource,
        usage: event.usage ? { inputTokens: event.usage.inputTokens, outputTokens: event.usage.outputTokens } : undefined,
        costUsd: event.costUsd,
        details: {
          keyId: event.keyId,
          message: event.message,
          latencyMs: event.latencyMs,
          attempts: event.attempts,
          args: event.args,
          upstreamRequestId: event.upstreamRequestId,
        },
      };
    case 'kill':
      return event.on
        ? { type: 'kill', time: event.at, action: 'kill', resource: event.scope, details: { reason: event.reason, by: event.by } }
        : { type: 'kill.cleared', time: event.at, action: 'unkill', resource: event.scope };
    case 'budget.threshold':
      return {
        type: 'budget.threshold',
        time: event.at,
        resource: event.scope,
        costUsd: event.usedUsd,
        details: { period: event.period, window: event.window, threshold: event.threshold, limitUsd: event.limitUsd },
      };
    case 'breaker.changed':
      return { type: 'breaker.changed', time: event.at, resource: event.scope, details: { from: event.from, to: event.to, reason: event.reason } };
    case 'alarm.changed':
      return { type: 'alarm.changed', time: event.at, resource: event.alarm, details: { from: event.from, to: event.to, reason: event.reason } };
    case 'policy.shadow':
      return {
        type: 'policy.shadow',
        time: event.at,
        run: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        action: event.action,
        resource: event.resource,
        details: { effect: event.effect, policies: event.policies },
      };
    case 'retry':
      return undefined;
  }
}

/** Record every decision in the audit log, redacting the agent's configured argument fields. */
export function bridgeToAudit(config: FmguardConfig, audit: AuditLog): (event: GuardEvent) => void {
  return (event) => {
    const record = toAuditRecord(event);
    if (!record) return;
    const agent = record.agent ? config.agents[record.agent] : undefined;
    audit.record(record, agent && agent.redactFields.length > 0 ? { redactFields: agent.redactFields } : undefined);
  };
}
