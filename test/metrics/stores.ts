import Database from 'better-sqlite3';
import { createMemoryMetricStore } from '../../src/backends/memory/metrics.ts';
import { createSqliteMetricStore } from '../../src/backends/sqlite/metrics.ts';
import type { MetricStore } from '../../src/store/metrics.ts';

export const METRIC_STORES: Array<{ name: string; make: () => { store: MetricStore; close: () => void } }> = [
  { name: 'memory', make: () => ({ store: createMemoryMetricStore(), close: () => {} }) },
  {
    name: 'sqlite',
    make: () => {
      const db = new Database(':memory:');
      return { store: createSqliteMetricStore(db), close: () => db.close() };
    },
  },
];
