import { GuardError, guardError } from '../core/errors.ts';
import type { GuardAction } from './events.ts';
import type { AuthorizeDecision, GuardContext } from './context.ts';
import type { RunHandle } from './run-handle.ts';

/**
 * The checks every call passes before anything is reserved (DESIGN.md decision order, steps 2–4):
 * the run is alive and within its wall time, no kill switch covers it, and the policy allows it.
 * Throws the refusal; stops the run when the refusal is terminal.
 */
export async function admitCall(
  ctx: GuardContext,
  handle: RunHandle,
  action: GuardAction,
  resource: string,
  context: () => Record<string, unknown>,
): Promise<AuthorizeDecision | undefined> {
  const now = ctx.clock.now();
  try {
    handle.assertRunning(now);
  } catch (error) {
    if (GuardError.isInstance(error) && error.code === 'limit.duration') await ctx.stopRun(handle, error);
    throw error;
  }
  const killed = ctx.killedBy(handle);
  if (killed) {
    const error = guardError('kill.switch', `stopped by the kill switch on ${killed.scope}: ${killed.reason}`, { scope: killed.scope, runId: handle.id });
    await ctx.stopRun(handle, error);
    throw handle.stopped ?? error;
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
