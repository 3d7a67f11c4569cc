import type { CompiledPolicy } from './compile.ts';
import type { Decision } from './types.ts';

/**
 * The fmguard decision from what Cedar found. Forbid wins over everything; a forbid that could not be
 * evaluated denies too (fail closed: its data did not match the schema); a matching permit annotated
 * `@approval` turns allow into approval even when a plain permit matches as well (approval is the
 * stricter grant, as forbid is over permit); otherwise default deny.
 *
 * `satisfied` are the ids of policies whose conditions held (for a Cedar allow, its permits; for a
 * deny, its forbids); `errored` the ids that raised an error.
 */
export function decisionFrom(
  satisfied: readonly string[],
  errored: readonly string[],
  policies: ReadonlyMap<string, CompiledPolicy>,
  shadow: boolean,
): Decision {
  const errors = errored.length > 0 ? errored : undefined;
  const forbids = satisfied.filter((id) => policies.get(id)?.effect === 'forbid');
  if (forbids.length > 0) return withErrors({ effect: 'deny', reason: 'forbid', policies: forbids, shadow }, errors);
  const failedForbids = errored.filter((id) => policies.get(id)?.effect === 'forbid');
  if (failedForbids.length > 0) return withErrors({ effect: 'deny', reason: 'error', policies: failedForbids, shadow }, errors);
  const permits = satisfied.filter((id) => policies.get(id)?.effect === 'permit');
  const approvals = permits.filter((id) => policies.get(id)!.approval);
  if (approvals.length > 0) return withErrors({ effect: 'approval', policies: approvals, shadow }, errors);
  if (permits.length > 0) return withErrors({ effect: 'allow', policies: permits, shadow }, errors);
  return withErrors({ effect: 'deny', reason: 'no-permit', policies: [], shadow }, errors);
}

function withErrors(decision: Decision, errors: readonly string[] | undefined): Decision {
  return errors ? { ...decision, errors } : decision;
}

/** The outcome to act on: a shadow-mode agent's calls go through whatever was decided. */
export function effectiveEffect(decision: Decision): Decision['effect'] {
  return decision.shadow ? 'allow' : decision.effect;
}
