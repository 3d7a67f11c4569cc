export * from './types.ts';
export { parseDuration, durationMs, type Duration } from './duration.ts';
export { evaluateAlarm, evaluationRange, breaches, type Datapoint, type Evaluation, type EvaluationConfig } from './evaluate.ts';
export { parseRule, evaluateRule, compositeState, ruleAlarms, RuleParseError, type Rule } from './composite.ts';
export { validateAlarms, validateAlarmConfig, splitAlarmConfig, validateAlarmSpec, validateCompositeSpec, isValidPeriod } from './validate.ts';
export { normalizeAlarm, normalizeComposite, type Action, type MetricAlarm, type CompositeAlarm } from './normalize.ts';
export { postWebhook, type WebhookRequest, type WebhookResult } from './webhook.ts';
export {
  createAlarmEngine,
  type AlarmEngine,
  type AlarmEngineOptions,
  type AlarmActionHandlers,
  type AlarmEvent,
  type AlarmStatus,
  type BreakerActions,
  type KillActions,
} from './engine.ts';
