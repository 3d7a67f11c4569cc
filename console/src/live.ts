/**
 * One EventSource per page on /console/api/events, shared by every view. Views subscribe and re-read
 * what they show when an event concerns it (coalesced), instead of polling.
 */
export interface LiveEvent {
  type: string;
  at: number;
  runId?: string;
  agent?: string;
  tenant?: string;
  scope?: string;
  alarm?: string;
  [key: string]: unknown;
}

type Listener = (event: LiveEvent) => void;
export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

const listeners = new Set<Listener>();
const statusListeners = new Set<(status: LiveStatus) => void>();
let source: EventSource | undefined;
let status: LiveStatus = 'connecting';
let everOpen = false;

function setStatus(next: LiveStatus): void {
  status = next;
  for (const l of statusListeners) l(next);
}

function emit(event: LiveEvent): void {
  for (const l of listeners) l(event);
}

function connect(): void {
  if (source) return;
  source = new EventSource('/console/api/events');
  source.onopen = () => {
    // After a drop, events may have been missed: everyone re-reads.
    if (everOpen) emit({ type: 'resync', at: Date.now() });
    everOpen = true;
    setStatus('live');
  };
  source.onerror = () => setStatus('reconnecting');
  source.onmessage = (message) => {
    try {
      emit(JSON.parse(message.data) as LiveEvent);
    } catch {
      // Not ours to crash on.
    }
  };
}

export function subscribe(listener: Listener): () => void {
  connect();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onStatus(listener: (status: LiveStatus) => void): () => void {
  connect();
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}
