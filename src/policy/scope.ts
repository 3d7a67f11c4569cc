import type { EntityJson, PolicyJson } from './cedar.ts';
import type { CompiledPolicy } from './compile.ts';
import { ACTION_TYPE } from './schema.ts';
import type { PolicyAction } from './types.ts';

/**
 * A cheap first cut before partial evaluation: a policy whose scope names another action, another
 * resource or another resource type cannot apply. Anything less certain (`resource in …`,
 * conditions) is left to Cedar, so this only ever removes policies that could not match.
 */
export interface ScopedPolicy {
  readonly id: string;
  readonly text: string;
  /** For shorthand: the entry for the placeholder agent (see `GeneratedPolicy.template`). */
  readonly template?: { readonly id: string; readonly text: string };
  mayApplyTo(resource: EntityJson): boolean;
}

type Uid = { type: string; id: string };

function uidOf(e: unknown): Uid | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const u = '__entity' in e ? (e as { __entity: unknown }).__entity : e;
  const { type, id } = (u ?? {}) as Partial<Uid>;
  return typeof type === 'string' && typeof id === 'string' ? { type, id } : undefined;
}

/** Undefined when the policy's action scope excludes `action`. */
export function scopeFilter(p: CompiledPolicy, action: PolicyAction): ScopedPolicy | undefined {
  if (!actionMayMatch(p.json, action)) return undefined;
  const r = p.json.resource;
  let mayApplyTo: (resource: EntityJson) => boolean = () => true;
  if (r.op === '==' && 'entity' in r) {
    const want = uidOf(r.entity);
    if (want)
      mayApplyTo = (res) => {
        const u = uidOf(res.uid);
        return u?.type === want.type && u.id === want.id;
      };
  } else if (r.op === 'is') {
    const type = r.entity_type;
    mayApplyTo = (res) => uidOf(res.uid)?.type === type;
  }
  return { id: p.id, text: p.text, template: p.template, mayApplyTo };
}

function actionMayMatch(json: PolicyJson, action: PolicyAction): boolean {
  const a = json.action;
  if (a.op === 'All') return true;
  // fmguard declares no action groups, so `in` means "one of" (a slot cannot occur in a static policy).
  const listed = a.op === '==' ? ('entity' in a ? [a.entity] : undefined) : 'entities' in a ? a.entities : [a.entity];
  if (!listed) return true;
  return listed.some((t) => {
    const u = uidOf(t);
    return u === undefined || (u.type === ACTION_TYPE && u.id === action);
  });
}
