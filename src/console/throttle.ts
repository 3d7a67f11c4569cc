/**
 * Failed sign-ins per client address: after `max` failures within `windowMs`, further attempts are
 * refused until the window passes, so the admin token cannot be guessed at network speed.
 */
export interface SignInThrottle {
  /** ms to wait before another attempt is heard; 0 when the client may try now. */
  retryAfter(client: string, now: number): number;
  failed(client: string, now: number): void;
  succeeded(client: string): void;
}

export function createSignInThrottle(max = 10, windowMs = 5 * 60_000): SignInThrottle {
  const failures = new Map<string, { count: number; resetAt: number }>();
  const prune = (now: number) => {
    if (failures.size < 10_000) return;
    for (const [client, entry] of failures) if (entry.resetAt <= now) failures.delete(client);
  };
  return {
    retryAfter(client, now) {
      const entry = failures.get(client);
      if (!entry || entry.resetAt <= now) return 0;
      return entry.count >= max ? entry.resetAt - now : 0;
    },
    failed(client, now) {
      prune(now);
      const entry = failures.get(client);
      if (!entry || entry.resetAt <= now) failures.set(client, { count: 1, resetAt: now + windowMs });
      else entry.count++;
    },
    succeeded(client) {
      failures.delete(client);
    },
  };
}
