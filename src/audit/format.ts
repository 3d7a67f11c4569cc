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

/** The text `fmguard audit verify` prints: the verdict, then any checkpoint, anchors and declared gaps. */
export function formatVerifyResult(result: VerifyResult & { anchors?: { count: number; chains: string[] } }): string {
  const lines: string[] = [];
  if (result.ok) {
    const head = result.head ? `; head #${result.head.seq} ${result.head.hash.slice(0, 16)}` : '';
    lines.push(`OK: ${result.count} event${result.count === 1 ? '' : 's'} verified, chain intact${head}`);
  } else {
    lines.push(
      `TAMPERED: event #${result.seq} ${result.problem} (found at record ${result.position}, ${result.checked} verified before it): ${result.message}`,
    );
  }
  if (result.checkpoint) lines.push(`checkpoint: events up to #${result.checkpoint.seq} were pruned; the walk started from its signed checkpoint`);
  if (result.anchors) {
    const chains = result.anchors.chains.map((c) => (c === '' ? 'the chain' : c)).join(', ') || 'none';
    lines.push(`anchors: ${result.anchors.count} read; latest signed head checked for ${chains}`);
  }
  for (const gap of result.gaps ?? []) {
    const what = gap.from === gap.to ? `event ${gap.from}` : `events ${gap.from}..${gap.to}`;
    lines.push(
      gap.declaredBy !== undefined
        ? `GAP: writer ${gap.writer} dropped ${what} (declared by audit.gap event #${gap.declaredBy})`
        : `GAP: writer ${gap.writer} lost ${what} with nothing declaring it`,
    );
  }
  return lines.join('\n');
}

function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function formatUsd(usd: number): string {
  // Enough digits for per-call costs (fractions of a cent) without float noise.
  return Number(usd.toPrecision(6)).toString();
}
