import { createHash } from 'node:crypto';
import { cedar, type Policy } from './cedar.ts';

/**
 * cedar-wasm keeps pre-parsed policy sets in module-wide storage with no way to drop one. Sets are
 * named by a hash of their content, so engines re-created with the same policies (config reloads,
 * tests) reuse them instead of piling up copies.
 */
const registered = new Set<string>();

export function preparsedSet(policies: ReadonlyMap<string, Policy>): string {
  const record: Record<string, Policy> = {};
  for (const id of [...policies.keys()].sort()) record[id] = policies.get(id)!;
  const name = `fmguard:${createHash('sha256').update(JSON.stringify(record)).digest('base64url')}`;
  if (registered.has(name)) return name;
  const answer = cedar().preparsePolicySet(name, { staticPolicies: record });
  if (answer.type === 'failure') throw new Error(`cedar-wasm could not load a validated policy set: ${answer.errors.map((e) => e.message).join('; ')}`);
  registered.add(name);
  return name;
}
