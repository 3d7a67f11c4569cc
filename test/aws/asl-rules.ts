/**
 * The Step Functions rules asl-validator does not check (reference aws-semantics.md §1): retrier
 * fields and their bounds, `States.ALL` alone and last, only built-in `States.*` names, task timeouts.
 * Walks every state, Map iterators included; returns every violation.
 */
const BUILT_IN = new Set([
  'States.ALL',
  'States.HeartbeatTimeout',
  'States.Timeout',
  'States.TaskFailed',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.BranchFailed',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.ExceedToleratedFailureThreshold',
  'States.ItemReaderFailed',
  'States.ResultWriterFailed',
  'States.QueryEvaluationError',
]);

type State = Record<string, any>;

function checkList(where: string, list: Array<{ ErrorEquals: string[] }>, problems: string[]): void {
  list.forEach((entry, i) => {
    const at = `${where}[${i}]`;
    if (!Array.isArray(entry.ErrorEquals) || entry.ErrorEquals.length === 0) problems.push(`${at}.ErrorEquals must be a non-empty list`);
    for (const name of entry.ErrorEquals ?? [])
      if (name.startsWith('States.') && !BUILT_IN.has(name)) problems.push(`${at}: ${name} is not a built-in error name`);
    if (entry.ErrorEquals?.includes('States.ALL') && (entry.ErrorEquals.length !== 1 || i !== list.length - 1))
      problems.push(`${at}: States.ALL must stand alone in the last entry`);
  });
}

export function aslRuleViolations(states: Record<string, State>, path = 'States'): string[] {
  const problems: string[] = [];
  for (const [name, state] of Object.entries(states)) {
    const at = `${path}.${name}`;
    for (const [i, r] of ((state.Retry ?? []) as State[]).entries()) {
      const rat = `${at}.Retry[${i}]`;
      if (r.IntervalSeconds !== undefined && !(Number.isInteger(r.IntervalSeconds) && r.IntervalSeconds >= 1 && r.IntervalSeconds <= 99_999_999))
        problems.push(`${rat}.IntervalSeconds must be a positive integer`);
      if (r.MaxAttempts !== undefined && !(Number.isInteger(r.MaxAttempts) && r.MaxAttempts >= 0 && r.MaxAttempts <= 99_999_999))
        problems.push(`${rat}.MaxAttempts must be an integer 0..99999999`);
      if (r.BackoffRate !== undefined && !(typeof r.BackoffRate === 'number' && r.BackoffRate >= 1)) problems.push(`${rat}.BackoffRate must be >= 1`);
      if (r.MaxDelaySeconds !== undefined && !(Number.isInteger(r.MaxDelaySeconds) && r.MaxDelaySeconds > 0 && r.MaxDelaySeconds < 31_622_401))
        problems.push(`${rat}.MaxDelaySeconds must be an integer 0 < v < 31622401`);
      if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE')
        problems.push(`${rat}.JitterStrategy must be FULL or NONE`);
    }
    if (state.Retry) checkList(`${at}.Retry`, state.Retry, problems);
    if (state.Catch) checkList(`${at}.Catch`, state.Catch, problems);
    if (state.TimeoutSeconds !== undefined && !(Number.isInteger(state.TimeoutSeconds) && state.TimeoutSeconds >= 1))
      problems.push(`${at}.TimeoutSeconds must be a positive integer`);
    if (state.HeartbeatSeconds !== undefined && !(state.HeartbeatSeconds < (state.TimeoutSeconds ?? 99_999_999)))
      problems.push(`${at}.HeartbeatSeconds must be below TimeoutSeconds`);
    if (state.Type === 'Fail' && typeof state.Error === 'string' && state.Error.startsWith('States.'))
      problems.push(`${at}.Error: only built-in errors start with States.`);
    const inner = state.Iterator ?? state.ItemProcessor;
    if (inner?.States) problems.push(...aslRuleViolations(inner.States, `${at}.Iterator.States`));
  }
  return problems;
}
