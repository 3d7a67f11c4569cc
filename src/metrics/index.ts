export * from './names.ts';
export { eventScopes, type CallEvent, type CallOutcome } from './event.ts';
export type { MetricStore, MetricRow, MetricQuery } from './store.ts';
export { createMemoryMetricStore } from './memory-store.ts';
export { createSqliteMetricStore, type SqliteMetricStoreOptions } from './sqlite-store.ts';
export { createMetrics, type Metrics, type MetricsOptions, type SeriesQuery, type DatapointSource } from './recorder.ts';
export { createPromInstruments, GENAI_DURATION_BUCKETS, type PromInstruments, type PromOptions } from './prometheus.ts';
export { statisticValue, mergeStatSet, emptyStatSet, isStatistic, percentileOf, type StatSet } from './stat-set.ts';
export { emptySketch, sketchAdd, sketchMerge, sketchQuantile, type Sketch } from './sketch.ts';
