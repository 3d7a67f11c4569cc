import type { PolicyProblem } from './types.ts';

/** `policies/bot.cedar:3:14: error: message (help)`, the form `fmguard policy check` prints. */
export function formatProblem(problem: PolicyProblem): string {
  let where = problem.source;
  if (problem.line !== undefined) where += `:${problem.line}:${problem.column ?? 1}`;
  const help = problem.help ? ` (${problem.help})` : '';
  return `${where}: ${problem.severity}: ${problem.message}${help}`;
}

/** Thrown by `createPolicyEngine` when any policy is malformed or invalid; lists every problem. */
export class PolicyConfigError extends Error {
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(`invalid policies (${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}):\n${errors.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'PolicyConfigError';
    this.problems = problems;
  }
}
