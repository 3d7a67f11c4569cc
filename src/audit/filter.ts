import type { AuditFilter, StoredEvent } from '../store/audit.ts';

/** Whether an event passes a filter (for sinks that filter in memory). */
export function matchesFilter(event: StoredEvent, filter: AuditFilter): boolean {
  if (filter.run !== undefined && event.run !== filter.run) return false;
  if (filter.agent !== undefined && event.agent !== filter.agent) return false;
  if (filter.tenant !== undefined && event.tenant !== filter.tenant) return false;
  if (filter.code !== undefined && event.code !== filter.code) return false;
  if (filter.type !== undefined) {
    const types = Array.isArray(filter.type) ? filter.type : [filter.type];
    if (!types.includes(event.type)) return false;
  }
  if (filter.from !== undefined && event.time < filter.from) return false;
  if (filter.to !== undefined && event.time >= filter.to) return false;
  return true;
}

/** Filter, order and limit events given oldest first. */
export function applyFilter(events: readonly StoredEvent[], filter: AuditFilter = {}): StoredEvent[] {
  const matched = events.filter((e) => matchesFilter(e, filter));
  if ((filter.order ?? 'desc') === 'desc') matched.reverse();
  return filter.limit !== undefined ? matched.slice(0, Math.max(0, filter.limit)) : matched;
}
