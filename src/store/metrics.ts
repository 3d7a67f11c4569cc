/** A mergeable quantile sketch as stored (see metrics/sketch.ts for the math). */
export interface Sketch {
  /** Count of values <= 0. */
  zero: number;
  /** Bin index → count. Bin i holds values in (γ^(i-1), γ^i]. */
  bins: Record<string, number>;
}

/**
 * One replica's aggregate of one metric, in one scope, over one base period. Rows are keyed by
 * (scope, metric, start, source): each replica (`source`) rewrites its own rows with its running
 * totals, so writes are idempotent and readers merge the replicas' rows.
 */
export interface MetricRow {
  scope: string;
  metric: string;
  /** Period start, epoch ms, aligned to the recorder's resolution. */
  start: number;
  source: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch?: Sketch;
}

export interface MetricQuery {
  scope: string;
  metrics: readonly string[];
  /** Inclusive period start. */
  from: number;
  /** Exclusive period start. */
  to: number;
}

/** Per-period metric datapoints, shared by replicas. */
export interface MetricStore {
  readonly kind: string;
  /** Insert or replace each row by (scope, metric, start, source). */
  write(rows: readonly MetricRow[]): Promise<void>;
  /** Every replica's rows for the scope and metrics with from <= start < to. */
  read(query: MetricQuery): Promise<MetricRow[]>;
  /** Delete rows that started before `before`; returns how many went. */
  prune(before: number): Promise<number>;
}
