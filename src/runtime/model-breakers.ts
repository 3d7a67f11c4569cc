import { breakerOpenError } from '../breakers/index.ts';
import { countsAgainstUpstream } from '../core/fault.ts';
import type { ResolvedModel } from '../config/resolve.ts';
import { GuardError } from '../core/errors.ts';
import type { GuardContext } from './context.ts';

/** The breaker admissions a call holds, by scope, to be given back with its outcome. */
export type BreakerTokens = Array<[scope: string, token: unknown]>;

/**
 * Step 6: the model's and its provider's breakers. An open breaker sends the call to the first
 * configured fallback the agent may use whose breakers admit it (the Step Functions Catch);
 * without one the call is refused with `breaker.open` and the cooldown left. `admit` is the same
 * policy check the requested model passed (real principal, real context for that model): it
 * throws `policy.denied` for a fallback the agent may not use, which is then skipped.
 */
export async function admitBreakers(
  ctx: GuardContext,
  requested: ResolvedModel,
  admit: (model: ResolvedModel) => void,
): Promise<{ model: ResolvedModel; tokens: BreakerTokens }> {
  const breakers = ctx.breakers;
  if (!breakers) return { model: requested, tokens: [] };
  let refused: { scope: string; retryAfterMs: number | null } | undefined;
  const candidates = [requested, ...requested.fallbacks.map((name) => ctx.config.models[name]!)];
  for (const [i, model] of candidates.entries()) {
    if (i > 0) {
      try {
        admit(model);
      } catch (error) {
        if (GuardError.isInstance(error) && error.code === 'policy.denied') continue;
        throw error;
      }
    }
    const tokens: BreakerTokens = [];
    let blocked = false;
    for (const scope of [`model:${model.name}`, `provider:${model.provider}`]) {
      const admission = await breakers.admit(scope);
      if (!admission.ok) {
        if (!refused || (admission.retryAfterMs ?? Infinity) < (refused.retryAfterMs ?? Infinity)) refused = { scope, retryAfterMs: admission.retryAfterMs };
        blocked = true;
        break;
      }
      tokens.push([scope, admission.token]);
    }
    if (!blocked) return { model, tokens };
    await releaseBreakers(ctx, tokens);
  }
  throw breakerOpenError(refused!.scope, { ok: false, retryAfterMs: refused!.retryAfterMs });
}

export async function releaseBreakers(ctx: GuardContext, tokens: BreakerTokens): Promise<void> {
  for (const [scope, token] of tokens) await ctx.breakers!.release(scope, token as never);
}

/** Tell the breakers how the call went: upstream failures count (core/fault.ts), everything else only frees probes. */
export async function recordBreakers(ctx: GuardContext, tokens: BreakerTokens, outcome: 'success' | GuardError): Promise<void> {
  if (!ctx.breakers || tokens.length === 0) return;
  for (const [scope, token] of tokens) {
    if (outcome === 'success') await ctx.breakers.record(scope, token as never, true);
    else if (countsAgainstUpstream(outcome)) await ctx.breakers.record(scope, token as never, false);
    else await ctx.breakers.release(scope, token as never);
  }
}
