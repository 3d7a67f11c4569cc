import { AgentsError, MaxTurnsExceededError } from '@openai/agents';
import type { GuardError, GuardErrorDetails, StopCode } from '../../index.ts';
import { clientShouldRetry, describeStop, findGuardError } from '../shared/guard-errors.ts';

/** What every fmguard stop raised into the Agents SDK carries. */
export interface GuardStopFields {
  readonly code: StopCode;
  readonly details: GuardErrorDetails;
  /** Whether retrying can help (the code allows it and fmguard's own retries are not spent). */
  readonly retryable: boolean;
  readonly guardError: GuardError;
}

/** A refusal or stop of the run, as the Agents SDK's own error type (its `cause` is the GuardError). */
export class GuardStopError extends AgentsError implements GuardStopFields {
  readonly code: StopCode;
  readonly details: GuardErrorDetails;
  readonly retryable: boolean;
  readonly guardError: GuardError;

  constructor(error: GuardError) {
    super(describeStop(error));
    this.name = 'GuardStopError';
    this.cause = error;
    this.code = error.code;
    this.details = error.details;
    this.retryable = clientShouldRetry(error);
    this.guardError = error;
  }
}

/**
 * The run's step limit, as the SDK's `MaxTurnsExceededError`: an `errorHandlers.maxTurns` handler of
 * the run turns it into a final output, exactly as for the SDK's own turn limit.
 */
export class GuardMaxTurnsError extends MaxTurnsExceededError implements GuardStopFields {
  readonly code: StopCode;
  readonly details: GuardErrorDetails;
  readonly retryable = false;
  readonly guardError: GuardError;

  constructor(error: GuardError) {
    super(describeStop(error));
    this.name = 'GuardMaxTurnsError';
    this.cause = error;
    this.code = error.code;
    this.details = error.details;
    this.guardError = error;
  }
}

/** What the Agents SDK sees for an error out of the runtime. */
export function toAgentsError(error: unknown): unknown {
  const guard = findGuardError(error);
  if (!guard) return error;
  return guard.code === 'limit.steps' ? new GuardMaxTurnsError(guard) : new GuardStopError(guard);
}

/** The fmguard stop behind an error the Agents SDK threw, if any. */
export function isGuardStop(error: unknown): error is GuardStopFields & Error {
  return error instanceof GuardStopError || error instanceof GuardMaxTurnsError;
}
