import { cloneSketch } from '../../metrics/sketch.ts';
import type { MetricQuery, MetricRow, MetricStore } from '../../store/metrics.ts';

function copy(row: MetricRow): MetricRow {
  const out: MetricRow = { ...row };
  if (row.sketch) out.sketch = cloneSketch(row.sketch);
  return out;
}

/** Metric datapoints in process memory (one process, or tests). Rows are copied in and out. */
export function createMemoryMetricStore(): MetricStore {
  // scope → metric → key(start, source) → row
  const data = new Map<string, Map<string, Map<string, MetricRow>>>();
  return {
    kind: 'memory',
    async write(rows) {
      for (const row of rows) {
        let byMetric = data.get(row.scope);
        if (!byMetric) data.set(row.scope, (byMetric = new Map()));
        let byKey = byMetric.get(row.metric);
        if (!byKey) byMetric.set(row.metric, (byKey = new Map()));
        byKey.set(`${row.start}\u0000${row.source}`, copy(row));
      }
    },
    async read(query: MetricQuery) {
      const out: MetricRow[] = [];
      const byMetric = data.get(query.scope);
      if (!byMetric) return out;
      for (const metric of query.metrics) {
        for (const row of byMetric.get(metric)?.values() ?? []) {
          if (row.start >= query.from && row.start < query.to) out.push(copy(row));
        }
      }
      return out.sort((a, b) => a.start - b.start);
    },
    async prune(before) {
      let removed = 0;
      for (const byMetric of data.values()) {
        for (const byKey of byMetric.values()) {
          for (const [key, row] of byKey) {
            if (row.start < before) {
              byKey.delete(key);
              removed++;
            }
          }
        }
      }
      return removed;
    },
  };
}
