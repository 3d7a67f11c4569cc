import { normalizeAlarm, splitAlarmConfig } from '../alarms/index.ts';
import { bandsOf, transitionsByResource } from './history.ts';
import { notFound } from './request.ts';
import { periodRange, rangeMsOf } from './range.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const DAY_MS = 86_400_000;

/**
 * An alarm over a range, as the CloudWatch console draws it: its metric at its own period and
 * statistic, the threshold, and the OK / ALARM / INSUFFICIENT_DATA history as bands (from the
 * `alarm.changed` events in the audit log). Composite alarms have the bands only.
 */
async function history({ guard, params, query }: AdminRequest): Promise<AdminReply> {
  const name = params.name!;
  const status = guard.alarms?.status(name);
  if (!status) throw notFound(`no alarm "${name}"`);
  const rangeMs = rangeMsOf(query, 3_600_000, DAY_MS);
  const now = guard.clock.now();
  const { alarms } = splitAlarmConfig(guard.config.alarms);
  const spec = alarms.find((a) => a.name === name);
  let metric: Record<string, unknown> | null = null;
  let range = periodRange(now, rangeMs, guard.metrics.resolutionMs);
  if (spec) {
    const alarm = normalizeAlarm(spec);
    range = periodRange(now, rangeMs, alarm.periodMs);
    const values = await guard.metrics.series({
      scope: alarm.scope,
      metric: alarm.metric,
      statistic: alarm.statistic,
      periodMs: alarm.periodMs,
      end: range.to,
      count: range.count,
    });
    metric = {
      scope: alarm.scope,
      metric: alarm.metric,
      statistic: alarm.statistic,
      periodMs: alarm.periodMs,
      comparison: alarm.comparison,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods,
      datapointsToAlarm: alarm.datapointsToAlarm,
      treatMissingData: alarm.treatMissingData,
      times: range.times,
      values,
    };
  }
  const transitions = (await transitionsByResource(guard, 'alarm.changed', range.from, now + 1)).get(name) ?? [];
  return { body: { alarm: status, metric, transitions, bands: bandsOf(transitions, range.from, now, status.state), from: range.from, to: range.to, now } };
}

export const alarmHistoryRoutes: Route[] = [{ method: 'GET', pattern: 'alarms/:name/history', handler: history }];
