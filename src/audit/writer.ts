import { randomBytes } from 'node:crypto';

/** A writer id: short (it is in every event's body) and random enough never to repeat (72 bits). */
export function newWriterId(): string {
  return `w-${randomBytes(9).toString('base64url')}`;
}
