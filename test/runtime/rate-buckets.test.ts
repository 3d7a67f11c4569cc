/**
 * Rate buckets of a call (runtime/rate-buckets.ts): requests- and tokens-per-minute buckets for the
 * key, agent, tenant and model that set them, and none for those that do not.
 */
import { describe, expect, it } from 'vitest';
import type { ResolvedModel } from '../../src/config/resolve.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import { rateBuckets } from '../../src/runtime/rate-buckets.ts';
import type { RunHandle } from '../../src/runtime/run-handle.ts';

const ctx = { config: { tenants: { acme: { rateLimits: { requestsPerMinute: 10, tokensPerMinute: 1000 } } } } } as unknown as GuardContext;

describe('rateBuckets', () => {
  it('a bucket per limit set, for the key, agent, tenant and model, tokens per minute charged the tokens', () => {
    const handle = {
      key: { id: 'key_1', rateLimits: { requestsPerMinute: 5 } },
      agent: { name: 'bot', rateLimits: { tokensPerMinute: 2000 } },
      record: { tenant: 'acme' },
    } as unknown as RunHandle;
    const model = { name: 'gpt-x', rateLimits: { requestsPerMinute: 3 } } as unknown as ResolvedModel;
    expect(rateBuckets(ctx, handle, model, 150)).toEqual([
      { key: 'rate:key:key_1:rpm', capacity: 5, windowMs: 60_000, amount: 1, scope: 'key:key_1' },
      { key: 'rate:agent:bot:tpm', capacity: 2000, windowMs: 60_000, amount: 150, scope: 'agent:bot' },
      { key: 'rate:tenant:acme:rpm', capacity: 10, windowMs: 60_000, amount: 1, scope: 'tenant:acme' },
      { key: 'rate:tenant:acme:tpm', capacity: 1000, windowMs: 60_000, amount: 150, scope: 'tenant:acme' },
      { key: 'rate:model:gpt-x:rpm', capacity: 3, windowMs: 60_000, amount: 1, scope: 'model:gpt-x' },
    ]);
  });

  it('none for a call without a key or model, by an agent without limits, in a tenant not configured', () => {
    const handle = { agent: { name: 'bot' }, record: { tenant: 'other' } } as unknown as RunHandle;
    expect(rateBuckets(ctx, handle, undefined, 150)).toEqual([]);
  });
});
