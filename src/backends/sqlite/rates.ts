import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { BucketState } from '../../core/token-bucket.ts';
import { creditTo, takeFrom } from '../rules.ts';
import type { BucketSpec, RateResult, RateStore } from '../../store/store.ts';

interface BucketRow {
  tokens: number;
  updated_at: number;
}

/** Token buckets in SQLite: read the buckets, decide with the shared rules, write back, in one transaction. */
export class SqliteRates implements RateStore {
  private readonly get: Statement<[string], BucketRow>;
  private readonly put: Statement<[string, number, number]>;
  /** @internal The transaction itself (nested in a compound one: index.ts). */
  readonly takeTx: Transaction<(buckets: BucketSpec[], now: number) => RateResult>;
  /** @internal The transaction itself (nested in a compound one: index.ts). */
  readonly creditTx: Transaction<(buckets: BucketSpec[], now: number) => void>;

  constructor(db: Database) {
    this.get = db.prepare('SELECT tokens, updated_at FROM fm_buckets WHERE key = ?');
    this.put = db.prepare(
      `INSERT INTO fm_buckets (key, tokens, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
    );
    this.takeTx = db.transaction((buckets: BucketSpec[], now: number): RateResult => {
      const states = this.load(buckets);
      const result = takeFrom(states, buckets, now);
      if (result.ok) this.save(states);
      return result;
    });
    this.creditTx = db.transaction((buckets: BucketSpec[], now: number) => {
      const states = this.load(buckets);
      creditTo(states, buckets, now);
      this.save(states);
    });
  }

  async take(buckets: BucketSpec[], now: number): Promise<RateResult> {
    return this.takeTx.immediate(buckets, now);
  }

  async credit(buckets: BucketSpec[], now: number): Promise<void> {
    this.creditTx.immediate(buckets, now);
  }

  private load(buckets: BucketSpec[]): Map<string, BucketState> {
    const states = new Map<string, BucketState>();
    for (const { key } of buckets) {
      if (states.has(key)) continue;
      const row = this.get.get(key);
      if (row !== undefined) states.set(key, { tokens: row.tokens, updatedAt: row.updated_at });
    }
    return states;
  }

  private save(states: Map<string, BucketState>): void {
    for (const [key, s] of states) this.put.run(key, s.tokens, s.updatedAt);
  }
}
