import { randomBytes } from 'node:crypto';
import type { ResponseIds } from '../core/wire/responses-output.ts';

/** An id in the style of the API it answers for (`resp_…`, `msg_…`, `fc_…`): a prefix and 24 hex digits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export function responseIds(): ResponseIds {
  return { response: newId('resp'), item: newId };
}
