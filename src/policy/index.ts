export { createPolicyEngine } from './engine.ts';
export type { PolicyEngine, PolicyEngineOptions, PolicyEngineStats, PolicyInfo, SliceStrategy } from './engine.ts';
export { policyMetricsText } from './stats.ts';
export { checkPolicies, policySchema } from './check.ts';
export { compileShorthand } from './shorthand.ts';
export { effectiveEffect } from './decision.ts';
export { PolicyConfigError, formatProblem } from './problems.ts';
export { NAMESPACE } from './schema.ts';
export type * from './types.ts';
