import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import type { AuditEvent, ChainHead, StoredEvent } from '../store/audit.ts';

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;

/** The hash of a stored event: sha256 over its canonical JSON without `hash` (seq and prevHash included). */
export function hashEvent(event: Omit<StoredEvent, 'hash'> & { hash?: string }): string {
  const { hash: _omit, ...rest } = event;
  return sha256Hex(canonicalJson(rest));
}

/** The event that follows `head` (or starts the chain when there is none). */
export function chainEvent(event: AuditEvent, head: ChainHead | undefined): StoredEvent {
  // Drop any chain fields a caller may have passed so they cannot forge them.
  const { seq: _s, prevHash: _p, hash: _h, ...body } = event as AuditEvent & Partial<StoredEvent>;
  const unhashed = { ...body, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? GENESIS_HASH };
  return { ...unhashed, hash: hashEvent(unhashed) };
}

/** The one text form stored for an event (a JSONL line, an SQLite body). */
export function serializeEvent(event: StoredEvent): string {
  return canonicalJson(event);
}

/** Parse a stored text back; undefined when it is not a well-formed stored event. */
export function parseStoredEvent(text: string): StoredEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isStoredEvent(value) ? value : undefined;
}

export function isStoredEvent(value: unknown): value is StoredEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(v.seq) &&
    (v.seq as number) >= 1 &&
    typeof v.prevHash === 'string' &&
    HEX64.test(v.prevHash) &&
    typeof v.hash === 'string' &&
    HEX64.test(v.hash) &&
    typeof v.type === 'string' &&
    typeof v.time === 'number'
  );
}
