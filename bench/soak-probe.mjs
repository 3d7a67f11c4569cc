/**
 * Loaded into the gateway under soak (`node --import bench/soak-probe.mjs bin/fmguard.js serve …`):
 * samples the process's own RSS, heap and event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms
 * resolution) and appends one JSON line per interval to FMGUARD_SOAK_PROBE. Nothing else in the
 * gateway changes; without the variable this module does nothing.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const path = process.env.FMGUARD_SOAK_PROBE;
if (path) {
  const everyMs = Number(process.env.FMGUARD_SOAK_PROBE_MS ?? 5000);
  const interval = monitorEventLoopDelay({ resolution: 10 });
  const overall = monitorEventLoopDelay({ resolution: 10 });
  interval.enable();
  overall.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      p50: ms(interval.percentile(50)),
      p99: ms(interval.percentile(99)),
      max: ms(interval.max),
      allP99: ms(overall.percentile(99)),
      allMax: ms(overall.max),
    };
    interval.reset();
    try {
      appendFileSync(path, `${JSON.stringify(line)}\n`);
    } catch {
      // the soak went away; nothing to report to
    }
  }, everyMs);
  timer.unref();
}
