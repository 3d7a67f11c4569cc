import { timingSafeEqual } from 'node:crypto';

/** The key from `Authorization: Bearer <key>` (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  if (header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/** A header meant to appear once; node joins repeats of custom headers with ", ". */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a presented secret equals the expected one, in time that does not depend on where they differ. */
export function sameSecret(given: string, expected: Buffer): boolean {
  const buffer = Buffer.from(given);
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of the length check.
  return buffer.length === expected.length ? timingSafeEqual(buffer, expected) : (timingSafeEqual(expected, expected), false);
}
