/** `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount`, or a percentile such as `p99` / `p99.9`. */
export type Statistic = 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'SampleCount' | `p${number}`;

/** One period's value of a metric; null when the period had no data. */
export type Datapoint = number | null;

/** A metric's values over consecutive periods, for the alarm evaluator. */
export interface SeriesQuery {
  scope: string;
  metric: string;
  /** Ignored for `error_rate`. */
  statistic: Statistic;
  periodMs: number;
  /** Exclusive end, aligned to periodMs: the newest period is [end - periodMs, end). */
  end: number;
  count: number;
}

/** What the alarm engine needs from metrics. */
export interface DatapointSource {
  series(query: SeriesQuery): Promise<Datapoint[]>;
  /** The resolution datapoints are stored at: an alarm period must be a multiple of it. */
  readonly resolutionMs?: number;
}

/** The metrics resolution when the config sets none (`metrics.resolutionMs`). */
export const DEFAULT_RESOLUTION_MS = 10_000;
