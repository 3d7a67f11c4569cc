export * from './names.ts';
export { eventScopes, type CallEvent, type CallOutcome } from './event.ts';
export type { MetricStore, MetricRow, MetricQuery } from '../store/metrics.ts';
export { createMetrics, type Metrics, type MetricsOptions } from './recorder.ts';
export type { Datapoint, DatapointSource, SeriesQuery, Statistic } from './series.ts';
export { DEFAULT_RESOLUTION_MS } from './series.ts';
export { createPromInstruments, GENAI_DURATION_BUCKETS, type PromInstruments, type PromOptions } from './prometheus.ts';
export { statisticValue, mergeStatSet, emptyStatSet, isStatistic, percentileOf, type StatSet } from './stat-set.ts';
export { emptySketch, sketchAdd, sketchMerge, sketchQuantile, type Sketch } from './sketch.ts';
