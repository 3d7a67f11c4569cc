import type { ApprovalRequest, ApprovalStore } from '../../store/approvals.ts';
import { approvalListeners } from '../../approvals/listeners.ts';
import { effective, matchesApprovalFilter, planCheck, planDecide } from '../../approvals/transitions.ts';

const keyOf = (k: { run: string; tool: string; fingerprint: string }) => JSON.stringify([k.run, k.tool, k.fingerprint]);

/** In-process approvals. Every operation is synchronous inside, so each is atomic. */
export function createMemoryApprovalStore(): ApprovalStore {
  const byId = new Map<string, ApprovalRequest>();
  /** Ids per call key, oldest first. */
  const byKey = new Map<string, string[]>();
  /** All ids, oldest first (list is newest first). */
  const order: string[] = [];
  const listeners = approvalListeners();

  const write = (requests: ApprovalRequest[]) => {
    for (const request of requests) {
      const copy = structuredClone(request);
      if (!byId.has(copy.id)) {
        order.push(copy.id);
        const key = keyOf(copy);
        byKey.set(key, [...(byKey.get(key) ?? []), copy.id]);
      }
      byId.set(copy.id, copy);
    }
    listeners.notify(requests);
  };

  return {
    kind: 'memory',
    async check(input) {
      const ids = byKey.get(keyOf(input));
      const latest = ids?.length ? byId.get(ids[ids.length - 1]) : undefined;
      const { result, writes } = planCheck(latest, input);
      write(writes);
      return structuredClone(result);
    },
    async get(id, now) {
      const request = byId.get(id);
      return request && structuredClone(effective(request, now));
    },
    async decide(input) {
      const { result, writes } = planDecide(byId.get(input.id), input);
      write(writes);
      return structuredClone(result);
    },
    async list(filter, now) {
      const out: ApprovalRequest[] = [];
      for (let i = order.length - 1; i >= 0; i--) {
        if (filter.limit !== undefined && out.length >= filter.limit) break;
        const request = effective(byId.get(order[i])!, now);
        if (matchesApprovalFilter(request, filter)) out.push(structuredClone(request));
      }
      return out;
    },
    subscribe: listeners.subscribe,
    async close() {
      listeners.clear();
    },
  };
}
