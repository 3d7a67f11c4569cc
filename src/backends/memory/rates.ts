import type { BucketState } from '../../core/token-bucket.ts';
import type { BucketSpec, RateResult, RateStore } from '../../store/store.ts';
import { creditTo, takeFrom } from '../rules.ts';

/** Token buckets kept in one Map; each call runs to completion, so take is all or nothing. */
export class MemoryRates implements RateStore {
  private readonly buckets = new Map<string, BucketState>();

  async take(buckets: BucketSpec[], now: number): Promise<RateResult> {
    return takeFrom(this.buckets, buckets, now);
  }

  async credit(buckets: BucketSpec[], now: number): Promise<void> {
    creditTo(this.buckets, buckets, now);
  }
}
