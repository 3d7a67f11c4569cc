import type { MetricQuery, MetricRow, MetricStore } from '../../store/metrics.ts';
import type { RedisHandle } from './handle.ts';
import { pruneMetricsScript, readMetricsScript, writeMetricsScript } from './lua/metrics.ts';

export interface RedisMetricStoreOptions {
  /** How long a series is kept after its last write, by Redis itself (default 25 h, the recorder's retention). */
  retentionMs?: number;
}

const seriesOf = (scope: string, metric: string) => JSON.stringify([scope, metric]);

/**
 * Metric datapoints in Redis, shared by every replica: each replica writes its own rows (keyed by
 * source), readers get every replica's rows and merge them. A write is one script; so are read
 * and prune.
 */
export function createRedisMetricStore(handle: RedisHandle, { retentionMs = 25 * 3_600_000 }: RedisMetricStoreOptions = {}): MetricStore {
  const { gate } = handle;
  const prefix = handle.keys.prefix;
  return {
    kind: 'redis',
    async write(rows) {
      if (rows.length === 0) return;
      const args: string[] = [prefix, String(Math.max(1, Math.ceil(retentionMs)))];
      for (const row of rows) {
        const stored = {
          ...row,
          // JSON has no infinities; an empty set is never written, so this only guards the format.
          min: Number.isFinite(row.min) ? row.min : 0,
          max: Number.isFinite(row.max) ? row.max : 0,
        };
        args.push(seriesOf(row.scope, row.metric), String(row.start), `${row.start}|${row.source}`, JSON.stringify(stored));
      }
      await gate.run('metrics write', (redis) => writeMetricsScript.run(redis, args));
    },
    async read(query: MetricQuery) {
      if (query.metrics.length === 0) return [];
      const args = [prefix, String(query.from), String(query.to), ...query.metrics.map((m) => seriesOf(query.scope, m))];
      const rows = (await gate.run('metrics read', (redis) => readMetricsScript.run(redis, args))) as string[];
      return rows.map((json) => JSON.parse(json) as MetricRow).sort((a, b) => a.start - b.start);
    },
    async prune(before) {
      return (await gate.run('metrics prune', (redis) => pruneMetricsScript.run(redis, [prefix, String(before)]))) as number;
    },
  };
}
