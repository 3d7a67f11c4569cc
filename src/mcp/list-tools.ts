import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Authorizer, AuthorizeRequest } from '../runtime/context.ts';
import type { Identity } from './identity.ts';

/**
 * An authorizer that can say whether some arguments could make a call allowed (Cedar partial
 * evaluation with the context unknown). Used when present; the plain probe otherwise.
 */
type ListingAuthorizer = Authorizer & { mayAllow?(request: Omit<AuthorizeRequest, 'context'>): boolean };

/**
 * Least privilege for discovery: the tools whose `callTool` on `server.tool` some request could be
 * allowed. Each call is still judged on its real arguments; listing only decides what the agent sees.
 * With the Cedar engine (`mayAllow`: partial evaluation with the context unknown):
 * - a permit satisfied or left conditional (`when { context.input.amount < 100 }`) lists the tool;
 * - a forbid that applies whatever the context (a `deny` entry, or one that errors for certain)
 *   hides it; a conditional forbid does not (some arguments escape it); no permit hides it;
 * - a shadow-mode agent sees every tool.
 * A hand-written authorizer without `mayAllow` is probed with no arguments (`context.input` is
 * `{}`) and a fresh run's counters; the tool is listed unless that probe is denied.
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
