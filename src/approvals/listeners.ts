import type { ApprovalListener, ApprovalRequest } from '../store/approvals.ts';

/**
 * The listeners of one approval store instance: every backend announces its committed writes
 * through this, each listener getting its own copy (and its failure staying its own).
 */
export function approvalListeners() {
  const listeners = new Set<ApprovalListener>();
  return {
    subscribe(listener: ApprovalListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify(requests: readonly ApprovalRequest[]): void {
      for (const request of requests) {
        for (const listener of listeners) {
          try {
            listener(structuredClone(request));
          } catch {
            // A listener's failure is its own.
          }
        }
      }
    },
    clear(): void {
      listeners.clear();
    },
  };
}
