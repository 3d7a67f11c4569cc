import type { Statistic } from '../metrics/series.ts';
import type { Duration } from './duration.ts';

export type { AlarmState } from '../store/alarms.ts';

export const COMPARISONS = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export const TREAT_MISSING = ['missing', 'notBreaching', 'breaching', 'ignore'] as const;
export type TreatMissingData = (typeof TREAT_MISSING)[number];

export type { Statistic } from '../metrics/series.ts';

/**
 * What an alarm does on a transition. `scope` defaults to the alarm's scope. Durations are ms or
 * strings like `30s`.
 */
export type AlarmAction =
  | { openBreaker: { scope?: string; cooldown?: Duration; halfOpenProbes?: number } }
  | { closeBreaker: { scope?: string } }
  | { kill: { scope?: string; reason?: string } }
  | { clearKill: { scope?: string } }
  | { webhook: { url: string; headers?: Record<string, string>; timeout?: Duration; retries?: number } };

/** A metric alarm, as config maps to it (`alarms:` in the config file). */
export interface AlarmSpec {
  name: string;
  /** `global` or `<kind>:<id>`: `provider:sim`, `model:gpt-4o-mini`, `tenant:acme`, `tool:demo.search`... */
  scope: string;
  metric: string;
  /** Default: Average for `latency_ms`, Sum for everything else; ignored for `error_rate`. */
  statistic?: Statistic;
  /** 10s, 20s, 30s, or a multiple of 60s. */
  period: Duration;
  evaluationPeriods: number;
  /** M of "M out of N"; default N. */
  datapointsToAlarm?: number;
  comparison: Comparison;
  threshold: number;
  /** Default `missing`. */
  treatMissingData?: TreatMissingData;
  /** Run on the transition into ALARM. */
  actions?: AlarmAction[];
  /** Run on the transition into OK. */
  okActions?: AlarmAction[];
  /** Run on the transition into INSUFFICIENT_DATA. */
  insufficientDataActions?: AlarmAction[];
  /** On the transition into OK, close the breakers and clear the kill switches this alarm set. */
  closeOnOk?: boolean;
}

/** A composite alarm over other alarms: `ALARM(a) AND NOT OK("b c")`. */
export interface CompositeSpec {
  name: string;
  rule: string;
  actions?: AlarmAction[];
  okActions?: AlarmAction[];
  insufficientDataActions?: AlarmAction[];
  closeOnOk?: boolean;
  /** Scope the actions default to (composites have none of their own); default `global`. */
  scope?: string;
}

/** One problem found by validation; `path` names the field, e.g. `alarms[0].period`. */
export interface Problem {
  path: string;
  message: string;
}
