import { alarmHistoryRoutes } from './alarm-history.ts';
import { breakerBoardRoutes } from './breaker-board.ts';
import { configInfoRoutes } from './config-info.ts';
import { eventRoutes } from './events.ts';
import { killImpactRoutes } from './kill-impact.ts';
import { liveRunRoutes } from './live-runs.ts';
import type { Route } from './router.ts';
import { spendRoutes } from './spend.ts';
import { timelineRoutes } from './timeline.ts';

/**
 * Read models for watching (the console's views; as useful with curl): the event stream, paged and
 * filtered runs, a run's timeline, spend over time, alarm and breaker history, what a kill would stop.
 */
export const viewRoutes: Route[] = [
  ...eventRoutes,
  ...liveRunRoutes,
  ...timelineRoutes,
  ...spendRoutes,
  ...alarmHistoryRoutes,
  ...breakerBoardRoutes,
  ...killImpactRoutes,
  ...configInfoRoutes,
];
