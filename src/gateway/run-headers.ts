import { runName } from '../runtime/run-ids.ts';
import type { Run } from '../runtime/run.ts';

/** A run's counters as the response headers report them. */
export interface RunCounters {
  steps: number;
  costUsd: number;
}

/** USD as plain decimal text (no exponent), nano-dollar precision, trailing zeros trimmed. */
export function formatUsd(usd: number): string {
  const text = usd.toFixed(9);
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/**
 * `x-fmguard-run` (the run's name, without its agent) and, when known, `x-fmguard-run-steps` /
 * `x-fmguard-run-cost-usd`; `x-fmguard-served-by` when a fallback (a breaker's `fallbacks` or a
 * catcher's `next`) served the call instead of the model asked for.
 */
export function runHeaders(runId: string, counters: RunCounters | undefined, servedBy?: string): Record<string, string> {
  // The client sees the name it sent (or was minted for it), not the agent-scoped id the store keeps.
  const headers: Record<string, string> = { 'x-fmguard-run': runName(runId) };
  if (counters) {
    headers['x-fmguard-run-steps'] = String(counters.steps);
    headers['x-fmguard-run-cost-usd'] = formatUsd(counters.costUsd);
  }
  if (servedBy !== undefined) headers['x-fmguard-served-by'] = servedBy;
  return headers;
}

/**
 * The run's counters from the ledger (sub-runs and other replicas included). One store read, so
 * only used where the call itself cannot tell: named runs and errors. A failed read leaves the
 * counters out rather than failing the response.
 */
export async function readCounters(run: Run): Promise<RunCounters | undefined> {
  try {
    const usage = await run.usage();
    return { steps: usage.steps, costUsd: usage.costUsd };
  } catch {
    return undefined;
  }
}
