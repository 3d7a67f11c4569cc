import type { Guard } from '../runtime/guard.ts';

/** One recorded change of an alarm's or a breaker's state. */
export interface Transition {
  time: number;
  from: string;
  to: string;
  reason?: string;
}

/** A stretch of time in one state, for drawing state history as bands. */
export interface Band {
  from: number;
  to: number;
  state: string;
}

/** Most transitions one query reads (state changes are rare; this is hours of a flapping alarm). */
const MAX_TRANSITIONS = 10_000;

/**
 * The recorded transitions of every alarm or breaker in [from, to), oldest first, by name or scope.
 * The audit log is where they are kept: the runtime already records every `alarm.changed` and
 * `breaker.changed` there, so no second history store is needed. Empty without an audit log.
 */
export async function transitionsByResource(
  guard: Guard,
  type: 'alarm.changed' | 'breaker.changed',
  from: number,
  to: number,
): Promise<Map<string, Transition[]>> {
  const out = new Map<string, Transition[]>();
  if (!guard.audit) return out;
  await guard.audit.flush();
  const events = await guard.audit.sink.query({ type, from, to, order: 'asc', limit: MAX_TRANSITIONS });
  for (const event of events) {
    if (event.resource === undefined) continue;
    const d = event.details ?? {};
    const list = out.get(event.resource) ?? [];
    list.push({ time: event.time, from: String(d.from), to: String(d.to), ...(typeof d.reason === 'string' && { reason: d.reason }) });
    out.set(event.resource, list);
  }
  return out;
}

/**
 * Cut [from, to) into bands of one state each: before the first transition the state is what that
 * transition left; with no transition at all, the current state held throughout. Only the last band
 * may be empty.
 */
export function bandsOf(transitions: readonly Transition[], from: number, to: number, current: string): Band[] {
  if (transitions.length === 0) return [{ from, to, state: current }];
  const bands: Band[] = [];
  let start = from;
  let state = transitions[0]!.from;
  for (const t of transitions) {
    if (t.time > start) bands.push({ from: start, to: t.time, state });
    start = Math.max(start, t.time);
    state = t.to;
  }
  // The state now always closes the list, even when it began this very millisecond (a change made
  // just before the query): a chart that ended on the previous state would show a state that is over.
  bands.push({ from: start, to: Math.max(to, start), state });
  return bands;
}
