import { logicalId } from './arn.ts';
import type { ExportReport } from './report.ts';
import { normalizeAlarm, normalizeComposite, ruleAlarms, splitAlarmConfig, type CompositeAlarm, type FmguardConfig, type MetricAlarm } from './sources.ts';

/** A CloudFormation resource (the template module adds it under its logical id). */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  Condition?: string;
}

/** fmguard scope → CloudWatch dimensions, as the EMF writer emits them (`global` has none). */
export function scopeDimensions(scope: string): Array<{ Name: string; Value: string }> {
  if (scope === 'global') return [];
  const colon = scope.indexOf(':');
  return [{ Name: scope.slice(0, colon), Value: scope.slice(colon + 1) }];
}

const BASIC_STATISTICS = new Set(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']);

/** The parameter that takes an SNS topic (or other action) ARN for every alarm; empty = none. */
export const ALARM_ACTION_PARAMETER = 'AlarmActionArn';
export const HAS_ALARM_ACTION = 'HasAlarmAction';

function actions(): Record<string, unknown> {
  const ref = { 'Fn::If': [HAS_ALARM_ACTION, [{ Ref: ALARM_ACTION_PARAMETER }], { Ref: 'AWS::NoValue' }] };
  return { AlarmActions: ref, OKActions: ref };
}

/**
 * One fmguard metric alarm as `AWS::CloudWatch::Alarm`: the same metric (in the EMF namespace, with
 * the scope as its dimension), statistic, period, M of N, comparison, threshold and missing-data
 * treatment. `error_rate` (Sum(errors) / Sum(calls)) is a metric-math alarm over the two metrics.
 */
export function metricAlarmResource(alarm: MetricAlarm, namespace: string): CfnResource {
  const dimensions = scopeDimensions(alarm.scope);
  const period = alarm.periodMs / 1000;
  const common = {
    AlarmName: alarm.name,
    AlarmDescription: `fmguard alarm ${alarm.name} on ${alarm.scope}: ${alarm.metric} ${alarm.comparison} ${alarm.threshold}`,
    EvaluationPeriods: alarm.evaluationPeriods,
    DatapointsToAlarm: alarm.datapointsToAlarm,
    ComparisonOperator: alarm.comparison,
    Threshold: alarm.threshold,
    TreatMissingData: alarm.treatMissingData,
    ...actions(),
  };
  if (alarm.metric === 'error_rate') {
    const stat = (id: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: { Metric: { Namespace: namespace, MetricName: id, Dimensions: dimensions }, Period: period, Stat: 'Sum' },
    });
    return {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        ...common,
        Metrics: [stat('errors'), stat('calls'), { Id: 'error_rate', Expression: 'errors / calls', Label: 'error_rate', ReturnData: true }],
      },
    };
  }
  const statistic = BASIC_STATISTICS.has(alarm.statistic) ? { Statistic: alarm.statistic } : { ExtendedStatistic: alarm.statistic };
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: { ...common, Namespace: namespace, MetricName: alarm.metric, Dimensions: dimensions, Period: period, ...statistic },
  };
}

/** A composite as `AWS::CloudWatch::CompositeAlarm`: fmguard's rule syntax is CloudWatch's. */
export function compositeAlarmResource(alarm: CompositeAlarm, dependsOn: string[]): CfnResource {
  return {
    Type: 'AWS::CloudWatch::CompositeAlarm',
    Properties: { AlarmName: alarm.name, AlarmRule: alarm.ruleText, AlarmDescription: `fmguard composite alarm ${alarm.name}`, ...actions() },
    DependsOn: dependsOn,
  };
}

/** Every configured alarm as a resource, by logical id; fmguard's actions go to the report. */
export function alarmResources(config: FmguardConfig, namespace: string, report: ExportReport): Record<string, CfnResource> {
  const { alarms, composites } = splitAlarmConfig(config.alarms);
  const out: Record<string, CfnResource> = {};
  const ids = new Map<string, string>();
  for (const spec of alarms) {
    const alarm = normalizeAlarm(spec);
    const id = logicalId('Alarm', alarm.name);
    ids.set(alarm.name, id);
    out[id] = metricAlarmResource(alarm, namespace);
    reportActions(report, alarm);
  }
  const normalized = composites.map((spec) => normalizeComposite(spec));
  for (const alarm of normalized) ids.set(alarm.name, logicalId('Composite', alarm.name));
  for (const alarm of normalized) {
    const children = [...ruleAlarms(alarm.rule)].map((name) => ids.get(name)).filter((id): id is string => id !== undefined);
    out[ids.get(alarm.name)!] = compositeAlarmResource(alarm, children);
    reportActions(report, alarm);
  }
  return out;
}

function reportActions(report: ExportReport, alarm: MetricAlarm | CompositeAlarm): void {
  const all = [...alarm.actions, ...alarm.okActions, ...alarm.insufficientDataActions];
  if (all.length === 0 && !alarm.closeOnOk) return;
  const kinds = [...new Set(all.map((a) => a.type))].join(', ');
  report.add({
    area: 'cloudwatch',
    agent: '*',
    subject: `alarm ${alarm.name}`,
    message: `fmguard's actions (${kinds || 'closeOnOk'}) have no CloudWatch equivalent: the alarm notifies the ${ALARM_ACTION_PARAMETER} parameter's topic (if given); trip the breaker or kill switch from there (e.g. a Lambda setting reserved concurrency 0)`,
  });
}
