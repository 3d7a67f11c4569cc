import type { PolicyEngine } from './engine.ts';

/**
 * The policy engine's counters as Prometheus text (appended to `GET /metrics`, like the audit log's):
 * decisions by how they were made and the policies they evaluated. A live config reload builds a new
 * engine, whose counters start at 0 (a counter reset, which `rate()` handles).
 */
export function policyMetricsText(engine: Pick<PolicyEngine, 'stats'> | undefined): string {
  if (!engine) return '';
  const s = engine.stats();
  const lines = [
    '# HELP fmguard_policy_decisions_total Policy decisions, by how they were made (fixed: cached, residual: JS conditions, cedar: one cedar-wasm call, none: unknown agent or malformed context).',
    '# TYPE fmguard_policy_decisions_total counter',
    `fmguard_policy_decisions_total{path="fixed"} ${s.fixed}`,
    `fmguard_policy_decisions_total{path="residual"} ${s.residual}`,
    `fmguard_policy_decisions_total{path="cedar"} ${s.cedar}`,
    `fmguard_policy_decisions_total{path="none"} ${s.decisions - s.fixed - s.residual - s.cedar}`,
    '# HELP fmguard_policy_policies_evaluated_total Policies evaluated by those decisions (residual conditions, or the policies of each cedar-wasm call).',
    '# TYPE fmguard_policy_policies_evaluated_total counter',
    `fmguard_policy_policies_evaluated_total ${s.policiesEvaluated}`,
    '# HELP fmguard_policy_targets_prepared_total (agent, action, resource) targets prepared by Cedar partial evaluation.',
    '# TYPE fmguard_policy_targets_prepared_total counter',
    `fmguard_policy_targets_prepared_total ${s.prepared}`,
  ];
  return `${lines.join('\n')}\n`;
}
