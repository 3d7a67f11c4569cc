import { GuardError, guardError } from '../core/errors.ts';
import { isInternalThrow, markInternal } from '../core/fault.ts';

/**
 * Fail closed: anything but a refusal thrown while deciding a call means state could not
 * be read or written, and the call is refused with `store.unavailable`. A refusal passes unchanged.
 */
export function failClosed(error: unknown, what = 'state'): GuardError {
  if (GuardError.isInstance(error)) return error;
  // A stack overflow or an invalid length while deciding is the input's shape, not the store.
  if (isInternalThrow(error)) return markInternal(guardError('request.invalid', `the call could not be processed: ${(error as Error).message}`, {}, error));
  return guardError('store.unavailable', `${what} could not be read: ${error instanceof Error ? error.message : String(error)}`, {}, error);
}
