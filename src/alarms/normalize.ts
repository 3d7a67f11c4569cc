import { parseRule, type Rule } from './composite.ts';
import { durationMs } from './duration.ts';
import type { AlarmAction, AlarmSpec, Comparison, CompositeSpec, Statistic, TreatMissingData } from './types.ts';
import { validateAlarmSpec, validateCompositeSpec } from './validate.ts';

/** An action with defaults applied and durations in ms. */
export type Action =
  | { type: 'openBreaker'; scope: string; cooldownMs?: number; halfOpenProbes?: number }
  | { type: 'closeBreaker'; scope: string }
  | { type: 'kill'; scope: string; reason?: string }
  | { type: 'clearKill'; scope: string }
  | { type: 'webhook'; url: string; headers: Record<string, string>; timeoutMs?: number; retries?: number };

interface Common {
  name: string;
  scope: string;
  actions: Action[];
  okActions: Action[];
  insufficientDataActions: Action[];
  closeOnOk: boolean;
}

export interface MetricAlarm extends Common {
  kind: 'metric';
  metric: string;
  statistic: Statistic;
  periodMs: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  comparison: Comparison;
  threshold: number;
  treatMissingData: TreatMissingData;
}

export interface CompositeAlarm extends Common {
  kind: 'composite';
  rule: Rule;
  ruleText: string;
}

function toAction(action: AlarmAction, scope: string): Action {
  if ('openBreaker' in action) {
    const a = action.openBreaker ?? {};
    return {
      type: 'openBreaker',
      scope: a.scope ?? scope,
      ...(a.cooldown !== undefined && { cooldownMs: durationMs(a.cooldown) }),
      ...(a.halfOpenProbes !== undefined && { halfOpenProbes: a.halfOpenProbes }),
    };
  }
  if ('closeBreaker' in action) return { type: 'closeBreaker', scope: action.closeBreaker?.scope ?? scope };
  if ('kill' in action) return { type: 'kill', scope: action.kill?.scope ?? scope, ...(action.kill?.reason !== undefined && { reason: action.kill.reason }) };
  if ('clearKill' in action) return { type: 'clearKill', scope: action.clearKill?.scope ?? scope };
  const w = action.webhook;
  return {
    type: 'webhook',
    url: w.url,
    headers: w.headers ?? {},
    ...(w.timeout !== undefined && { timeoutMs: durationMs(w.timeout) }),
    ...(w.retries !== undefined && { retries: w.retries }),
  };
}

function fail(what: string, problems: { path: string; message: string }[]): never {
  throw new TypeError(`invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
}

/** Apply defaults; throws a TypeError listing the problems if the spec is invalid. */
export function normalizeAlarm(spec: AlarmSpec): MetricAlarm {
  const problems = validateAlarmSpec(spec, spec?.name ?? 'alarm');
  if (problems.length > 0) fail('alarm', problems);
  const statistic: Statistic = spec.metric === 'error_rate' ? 'Average' : (spec.statistic ?? (spec.metric === 'latency_ms' ? 'Average' : 'Sum'));
  const actions = (list: AlarmAction[] | undefined) => (list ?? []).map((a) => toAction(a, spec.scope));
  return {
    kind: 'metric',
    name: spec.name,
    scope: spec.scope,
    metric: spec.metric,
    statistic,
    periodMs: durationMs(spec.period),
    evaluationPeriods: spec.evaluationPeriods,
    datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
    comparison: spec.comparison,
    threshold: spec.threshold,
    treatMissingData: spec.treatMissingData ?? 'missing',
    actions: actions(spec.actions),
    okActions: actions(spec.okActions),
    insufficientDataActions: actions(spec.insufficientDataActions),
    closeOnOk: spec.closeOnOk ?? false,
  };
}

export function normalizeComposite(spec: CompositeSpec): CompositeAlarm {
  const problems = validateCompositeSpec(spec, spec?.name ?? 'composite');
  if (problems.length > 0) fail('composite alarm', problems);
  const scope = spec.scope ?? 'global';
  const actions = (list: AlarmAction[] | undefined) => (list ?? []).map((a) => toAction(a, scope));
  return {
    kind: 'composite',
    name: spec.name,
    scope,
    rule: parseRule(spec.rule),
    ruleText: spec.rule,
    actions: actions(spec.actions),
    okActions: actions(spec.okActions),
    insufficientDataActions: actions(spec.insufficientDataActions),
    closeOnOk: spec.closeOnOk ?? false,
  };
}
