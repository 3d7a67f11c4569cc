import { canonicalJson } from '../core/canonical-json.ts';
import type { StoredEvent, VerifyResult } from '../store/audit.ts';

/** One line per event, for `fmguard audit tail|query`. */
export function formatEvent(event: StoredEvent): string {
  const parts = [`#${event.seq}`, formatTime(event.time), event.type];
  if (event.code) parts.push(`code=${event.code}`);
  for (const key of ['tenant', 'agent', 'run', 'action', 'resource'] as const) {
    if (event[key] !== undefined) parts.push(`${key}=${event[key]}`);
  }
  const usage = event.usage;
  if (usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)) {
    parts.push(`tokens=${usage.inputTokens ?? 0}/${usage.outputTokens ?? 0}`);
  }
  if (event.costUsd !== undefined) parts.push(`cost=$${formatUsd(event.costUsd)}`);
  if (event.details && Object.keys(event.details).length > 0) parts.push(canonicalJson(event.details));
  return parts.join(' ');
}

export function formatEvents(events: readonly StoredEvent[]): string {
  return events.map(formatEvent).join('\n');
}

/** The text `fmguard audit verify` prints. */
export function formatVerifyResult(result: VerifyResult): string {
  if (result.ok) {
    const head = result.head ? `; head #${result.head.seq} ${result.head.hash.slice(0, 16)}` : '';
    return `OK: ${result.count} event${result.count === 1 ? '' : 's'} verified, chain intact${head}`;
  }
  return `TAMPERED: event #${result.seq} ${result.problem} (found at record ${result.position}, ${result.checked} verified before it): ${result.message}`;
}

function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function formatUsd(usd: number): string {
  // Enough digits for per-call costs (fractions of a cent) without float noise.
  return Number(usd.toPrecision(6)).toString();
}
