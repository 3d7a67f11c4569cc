import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A signed-in console session, as its cookie carries it. */
export interface Session {
  /** Random; names the session (revocation, CSRF token). */
  nonce: string;
  issuedAt: number;
  expiresAt: number;
  /** The name the operator gave at sign-in (recorded with their actions); optional. */
  who?: string;
}

export interface SessionKeeper {
  /** Whether `given` is the admin token, in time independent of where they differ and of their lengths. */
  tokenMatches(given: string): boolean;
  /** A new session and its cookie value. */
  issue(now: number, who?: string): { session: Session; value: string };
  /** The session a cookie value proves, or undefined (missing, forged, expired or signed out). */
  read(value: string | undefined, now: number): Session | undefined;
  /** The session's CSRF token: a state-changing request must echo it in a header. */
  csrfToken(session: Session): string;
  csrfMatches(session: Session, given: string | undefined): boolean;
  /** Sign out: the cookie stops working in this process even before it expires. */
  revoke(session: Session, now: number): void;
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Stateless sessions: the cookie is its own record, signed with a key derived from the admin token,
 * so every replica behind a load balancer accepts it and a restart keeps operators signed in;
 * changing the admin token signs everyone out. Sign-out is remembered per process until expiry.
 */
export function createSessionKeeper(adminToken: string, ttlMs: number): SessionKeeper {
  const key = createHmac('sha256', adminToken).update('fmguard console session v1').digest();
  const tokenDigest = createHash('sha256').update(adminToken).digest();
  const revoked = new Map<string, number>();
  const mac = (text: string) => b64url(createHmac('sha256', key).update(text).digest());

  return {
    tokenMatches(given) {
      // Digests have one length, so timingSafeEqual never short-cuts on length.
      return timingSafeEqual(createHash('sha256').update(given).digest(), tokenDigest);
    },
    issue(now, who) {
      const session: Session = { nonce: b64url(randomBytes(18)), issuedAt: now, expiresAt: now + ttlMs, ...(who && { who }) };
      const payload = b64url(Buffer.from(JSON.stringify(session)));
      return { session, value: `${payload}.${mac(payload)}` };
    },
    read(value, now) {
      if (!value || value.length > 1024) return undefined;
      const dot = value.indexOf('.');
      if (dot <= 0) return undefined;
      const payload = value.slice(0, dot);
      if (!equalText(value.slice(dot + 1), mac(payload))) return undefined;
      let session: Session;
      try {
        session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
      } catch {
        return undefined;
      }
      if (typeof session.nonce !== 'string' || typeof session.expiresAt !== 'number' || typeof session.issuedAt !== 'number') return undefined;
      if (now >= session.expiresAt || session.issuedAt > now + 60_000) return undefined;
      if (revoked.has(session.nonce)) return undefined;
      return session;
    },
    csrfToken(session) {
      return mac(`csrf ${session.nonce}`);
    },
    csrfMatches(session, given) {
      return typeof given === 'string' && equalText(given, mac(`csrf ${session.nonce}`));
    },
    revoke(session, now) {
      revoked.set(session.nonce, session.expiresAt);
      if (revoked.size > 1000) for (const [nonce, until] of revoked) if (until <= now) revoked.delete(nonce);
    },
  };
}
