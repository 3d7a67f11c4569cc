import type { ResolvedModel } from '../config/resolve.ts';
import type { RateLimitsConfig } from '../config/schema.ts';
import type { BucketSpec } from '../store/store.ts';
import type { GuardContext } from './context.ts';
import type { RunHandle } from './run-handle.ts';

const MINUTE = 60_000;

function push(out: BucketSpec[], scope: string, limits: RateLimitsConfig | undefined, tokens: number): void {
  if (!limits) return;
  if (limits.requestsPerMinute) out.push({ key: `rate:${scope}:rpm`, capacity: limits.requestsPerMinute, windowMs: MINUTE, amount: 1, scope });
  if (limits.tokensPerMinute) out.push({ key: `rate:${scope}:tpm`, capacity: limits.tokensPerMinute, windowMs: MINUTE, amount: tokens, scope });
}

/** Requests- and tokens-per-minute buckets for key, agent, tenant and model (decision step 7, ARCHITECTURE.md). */
export function rateBuckets(ctx: GuardContext, handle: RunHandle, model: ResolvedModel | undefined, tokens: number): BucketSpec[] {
  const out: BucketSpec[] = [];
  const agent = handle.agent;
  if (handle.key) push(out, `key:${handle.key.id}`, handle.key.rateLimits, tokens);
  push(out, `agent:${agent.name}`, agent.rateLimits, tokens);
  push(out, `tenant:${handle.record.tenant}`, ctx.config.tenants[handle.record.tenant]?.rateLimits, tokens);
  if (model) push(out, `model:${model.name}`, model.rateLimits, tokens);
  return out;
}
