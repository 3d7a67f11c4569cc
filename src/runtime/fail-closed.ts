import { GuardError, guardError } from '../core/errors.ts';

/**
 * Fail closed: anything but a refusal thrown while deciding a call means state could not
 * be read or written, and the call is refused with `store.unavailable`. A refusal passes unchanged.
 */
export function failClosed(error: unknown, what = 'state'): GuardError {
  if (GuardError.isInstance(error)) return error;
  return guardError('store.unavailable', `${what} could not be read: ${error instanceof Error ? error.message : String(error)}`, {}, error);
}
