import { compilePolicies } from './compile.ts';
import { buildInputType } from './input-types.ts';
import { buildSchemaText } from './schema.ts';
import type { PolicyProblem, PolicySpec } from './types.ts';

/**
 * What `fmguard policy check` prints: every parse and schema-validation problem across global files,
 * agent files and shorthand, with file:line:column, plus warnings (format with `formatProblem`).
 * No errors among them means the engine will start.
 */
export function checkPolicies(spec: PolicySpec): PolicyProblem[] {
  return [...compilePolicies(spec).problems];
}

/** The Cedar schema a deployment's policies are validated against (for `fmguard policy schema`). */
export function policySchema(spec: Pick<PolicySpec, 'toolServers'>): string {
  return buildSchemaText(buildInputType(spec.toolServers ?? [], []));
}
