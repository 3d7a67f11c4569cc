import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Authorizer, AuthorizeRequest } from '../runtime/context.ts';
import type { Identity } from './identity.ts';

/**
 * An authorizer that can say whether some arguments could make a call allowed (Cedar partial
 * evaluation with the context unknown). Used when present; the plain probe otherwise.
 */
type ListingAuthorizer = Authorizer & { mayAllow?(request: Omit<AuthorizeRequest, 'context'>): boolean };

/**
 * Least privilege for discovery: the tools whose `callTool` on `server.tool` the policy does not
 * deny. Each call is still judged on its real arguments; listing only decides what the agent sees,
 * and when in doubt it hides. The probe has no arguments (`context.input` is `{}`) and a fresh
 * run's counters, so with the Cedar engine:
 * - an unconditional permit, or an approval rule, lists the tool; no permit hides it;
 * - a forbid that matches whatever the arguments (a `deny` entry) hides it;
 * - a permit that needs certain arguments does not match the empty input: the tool is hidden,
 *   though callable with arguments the permit accepts;
 * - a forbid on arguments hides it unless written so an empty input escapes it:
 *   `when { context.input has path && context.input.path like "/etc/*" }` lists the tool;
 *   without the `has` the forbid fails to evaluate, which denies (fail closed); and
 *   `unless { context.input has to && … }` matches the empty input.
 * So "may call, except with these arguments" is best written as a permit plus a
 * `when { context.input has x && … }` forbid. An authorizer with `mayAllow` (Cedar partial
 * evaluation, context unknown) answers "could any call be allowed" exactly and is used instead.
 */
export function visibleTools(authorizer: ListingAuthorizer | undefined, identity: Identity, server: string, tools: Iterable<Tool>, now: number): Tool[] {
  if (!authorizer) return [...tools];
  const context = { input: {}, runSteps: 0, runCostNanoUsd: 0, runDepth: 0, hourUtc: new Date(now).getUTCHours() };
  const agent = identity.agent.name;
  const tenant = identity.agent.tenant;
  const out: Tool[] = [];
  for (const tool of tools) {
    const resource = `${server}.${tool.name}`;
    let visible: boolean;
    try {
      if (typeof authorizer.mayAllow === 'function') visible = authorizer.mayAllow({ agent, tenant, action: 'callTool', resource });
      else {
        visible = authorizer.authorize({ agent, tenant, action: 'callTool', resource, context }).effect !== 'deny';
      }
    } catch {
      visible = false; // Fail closed: a policy layer that cannot decide shows nothing.
    }
    if (visible) out.push(tool);
  }
  return out;
}
