/**
 * Everything the AWS export reads from the rest of fmguard, in one place: the resolved config, the
 * policy engine's compiled policies and Cedar partial evaluation, the retry and alarm specs. The
 * export never re-parses what these modules already understand.
 */
export type { FmguardConfig, ResolvedAgent, ResolvedModel, Timeouts } from '../../config/resolve.ts';
export { DEFAULT_EMF_NAMESPACE, toolCatchers as toolCatcherSpecs, toolRetriers } from '../../config/resolve.ts';
export type { AwsToolConfig, ToolServerConfig } from '../../config/schema.ts';
export { policySpecFromConfig } from '../../wiring/policy.ts';
export { builtinToolServerSpec as demoToolServerSpec } from '../../config/builtin-tools.ts';
export { compilePolicies, type CompiledPolicies, type CompiledPolicy } from '../../policy/compile.ts';
export { cedar } from '../../policy/cedar.ts';
export { agentEntity, globMatches, modelEntity, toolEntity } from '../../policy/entities.ts';
export { ACTION_TYPE, CONTEXT_KEYS } from '../../policy/schema.ts';
export { scopeFilter } from '../../policy/scope.ts';
export { PolicyConfigError } from '../../policy/problems.ts';
export type { AgentPolicySpec, PolicyAction, PolicySpec } from '../../policy/types.ts';
export { RETRY_DEFAULTS, type Retrier } from '../../core/retry.ts';
export { CATCHABLE_CODES, catchEntryMatches, type Catcher } from '../../core/catch.ts';
export { ALL_STOP_CODES, STOP_CODES, type StopCode } from '../../core/codes.ts';
export { splitAlarmConfig, normalizeAlarm, normalizeComposite, ruleAlarms, type MetricAlarm, type CompositeAlarm } from '../../alarms/index.ts';
export { BEDROCK_ERRORS } from '../../providers/bedrock/errors.ts';
