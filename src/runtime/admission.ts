import { guardError, type GuardError } from '../core/errors.ts';
import type { GuardAction } from './events.ts';
import type { AuthorizeDecision, GuardContext } from './context.ts';
import type { RunHandle } from './run-handle.ts';

/**
 * The checks every call passes before anything is reserved (decision order steps 2–4, ARCHITECTURE.md):
 * the run is alive and within its wall time, no kill switch covers it, and the policy allows it.
 * Synchronous (it is on every call's path); throws the refusal. The caller stops the run when the
 * refusal is terminal.
 */
export function admitCall(
  ctx: GuardContext,
  handle: RunHandle,
  action: GuardAction,
  resource: string,
  context: () => Record<string, unknown>,
): AuthorizeDecision | undefined {
  handle.assertRunning(ctx.clock.now());
  // Fail closed on the audit log: no call runs that its record could not be kept for.
  if (ctx.audit && !ctx.audit.admitting) {
    throw guardError('store.unavailable', 'the audit log is full (its sink is unreachable and the spool reached its bound): calls wait until it drains', {
      auditGate: true,
    });
  }
  const killed = ctx.killedBy(handle);
  if (killed) {
    throw guardError('kill.switch', `stopped by the kill switch on ${killed.scope}: ${killed.reason}`, { scope: killed.scope, runId: handle.id });
  }
  if (!ctx.authorizer) return undefined;
  const decision = ctx.authorizer.authorize({ agent: handle.agent.name, tenant: handle.record.tenant, action, resource, context: context() });
  if (decision.effect === 'deny') {
    throw guardError('policy.denied', `${handle.agent.name} may not ${action === 'invokeModel' ? 'use model' : 'call tool'} ${resource}`, {
      policies: decision.policies,
      resource,
    });
  }
  return decision;
}

/** After a refusal: a terminal one (kill, wall time, loop) ends the run; returns what to throw. */
export async function afterRefusal(ctx: GuardContext, handle: RunHandle, error: GuardError): Promise<GuardError> {
  if (error.terminal && error !== handle.stopped) {
    await ctx.stopRun(handle, error);
    return handle.stopped ?? error;
  }
  return error;
}
