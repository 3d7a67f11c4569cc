import { GuardError, shouldRetry } from '../../index.ts';

/**
 * The GuardError behind `error`: itself, or the nearest one it wraps. Frameworks wrap what their
 * middleware, models and tools throw in their own types, as `cause` (most) or `error` (the Agents
 * SDK's ToolCallError).
 */
export function findGuardError(error: unknown): GuardError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if (GuardError.isInstance(current)) return current;
    const wrapper = current as { cause?: unknown; error?: unknown };
    current = wrapper.cause ?? (wrapper.error instanceof Error ? wrapper.error : undefined);
  }
  return undefined;
}

/**
 * Whether a client retrying this refusal can help: the code says so, and fmguard has not already spent
 * its own retries on the call (the rule behind the gateway's `x-should-retry`).
 */
export function clientShouldRetry(error: GuardError): boolean {
  return shouldRetry(error.code) && error.details.retriesSpent !== true;
}

/** `code: message`, as the adapters' framework errors read. */
export function describeStop(error: GuardError): string {
  return `${error.code}: ${error.message}`;
}
