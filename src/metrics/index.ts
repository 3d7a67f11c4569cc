export * from './names.ts';
export { eventScopes, type CallEvent, type CallOutcome } from './event.ts';
export type { MetricStore, MetricRow, MetricQuery } from '../store/metrics.ts';
export { createMemoryMetricStore } from '../backends/memory/metrics.ts';
export { createSqliteMetricStore, type SqliteMetricStoreOptions } from '../backends/sqlite/metrics.ts';
export { createMetrics, type Metrics, type MetricsOptions, type SeriesQuery, type DatapointSource } from './recorder.ts';
export { createPromInstruments, GENAI_DURATION_BUCKETS, type PromInstruments, type PromOptions } from './prometheus.ts';
export { statisticValue, mergeStatSet, emptyStatSet, isStatistic, percentileOf, type StatSet } from './stat-set.ts';
export { emptySketch, sketchAdd, sketchMerge, sketchQuantile, type Sketch } from './sketch.ts';
