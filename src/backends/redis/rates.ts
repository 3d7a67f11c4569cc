import { OK } from '../rules.ts';
import type { BucketSpec, RateResult, RateStore } from '../../store/store.ts';
import type { Gate } from './connection.ts';
import type { FailPolicy } from './fail-open.ts';
import { creditScript, takeScript } from './lua/rates.ts';

/**
 * A bucket left alone for a window is full again, which is what a missing key means; a minute more
 * keeps skew between replicas' clocks and Redis's from ever dropping a bucket that is still short.
 */
const TTL_MARGIN_MS = 60_000;

// The same check as rules.ts applies, so a bad bucket is a TypeError before anything is sent.
function checkBucket(b: BucketSpec): void {
  if (!(b.capacity > 0) || !(b.windowMs > 0) || !(b.amount >= 0) || !Number.isFinite(b.capacity + b.windowMs + b.amount)) {
    throw new TypeError(`bucket ${b.key}: capacity and windowMs must be positive and amount non-negative`);
  }
}

/** @internal The rate scripts' arguments (checked), also for the compound scripts. */
export function argsOf(prefix: string, buckets: readonly BucketSpec[], now: number): string[] {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError(`now must be a finite number, got ${now}`);
  const args = [prefix, String(now), String(buckets.length)];
  for (const b of buckets) {
    checkBucket(b);
    args.push(b.key, String(b.capacity), String(b.windowMs), String(b.amount), String(Math.ceil(b.windowMs) + TTL_MARGIN_MS));
  }
  return args;
}

/** @internal The take script's reply as a result. */
export function takeResult(buckets: readonly BucketSpec[], reply: [number, number?, string?]): RateResult {
  if (reply[0] === 1) return OK;
  const b = buckets[(reply[1] as number) - 1];
  return { ok: false, scope: b.scope, key: b.key, retryAfterMs: Number(reply[2]) };
}

/** Token buckets in Redis: take and credit are one script each, all or nothing across buckets. */
export class RedisRates implements RateStore {
  constructor(
    private readonly gate: Gate,
    private readonly prefix: string,
    private readonly policy: FailPolicy,
  ) {}

  async take(buckets: BucketSpec[], now: number): Promise<RateResult> {
    const args = argsOf(this.prefix, buckets, now);
    const reply = await this.policy.guard(
      'rates',
      () => this.gate.run('take', (redis) => takeScript.run(redis, args)) as Promise<[number, number?, string?]>,
      (): [number] => [1],
    );
    return takeResult(buckets, reply);
  }

  async credit(buckets: BucketSpec[], now: number): Promise<void> {
    const args = argsOf(this.prefix, buckets, now);
    await this.policy.guard(
      'rates',
      () => this.gate.run('credit', (redis) => creditScript.run(redis, args)),
      () => 1,
    );
  }
}
