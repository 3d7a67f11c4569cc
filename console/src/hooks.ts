import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { subscribe, type LiveEvent } from './live.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Load with `fetcher` whenever `key` changes, and on `reload()`. Answers that arrive out of order
 * (a slow page read overtaken by a newer one) are dropped.
 */
export function useLoad<T>(fetcher: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const load = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fetcherRef.current().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: Error) => mine === seq.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, []);
  useEffect(load, [key]);
  return { data: state.data, error: state.error, loading: state.loading, reload: load };
}

/**
 * Re-read when a live event concerns the view (`matches`): `delayMs` after the first event of a
 * burst, and then at most once per `minIntervalMs` while events keep coming. A busy agent costs the
 * gateway one read per interval per open console, and the view is never more than that behind. A
 * hidden tab does not read; it catches up when shown.
 */
export function useLiveReload(matches: (event: LiveEvent) => boolean, reload: () => void, delayMs = 150, minIntervalMs = 700): void {
  const matchRef = useRef(matches);
  matchRef.current = matches;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    let timer: number | undefined;
    let last = 0;
    let missed = false;
    const run = () => {
      timer = undefined;
      if (document.visibilityState === 'hidden') {
        missed = true;
        return;
      }
      last = Date.now();
      reloadRef.current();
    };
    const off = subscribe((event) => {
      if (event.type !== 'resync' && !matchRef.current(event)) return;
      if (timer !== undefined) return;
      timer = window.setTimeout(run, Math.max(delayMs, last + minIntervalMs - Date.now()));
    });
    const onVisible = () => {
      if (missed && document.visibilityState === 'visible') {
        missed = false;
        run();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      off();
      document.removeEventListener('visibilitychange', onVisible);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [delayMs, minIntervalMs]);
}

/** Re-read every `ms` while the page is visible: what events cannot announce (other replicas, runs that end quietly). */
export function useInterval(callback: () => void, ms: number): void {
  const ref = useRef(callback);
  ref.current = callback;
  useEffect(() => {
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') ref.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms]);
}

/** The current time, ticking every `ms`, corrected by the server's clock (`serverNow` read at `readAt`). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** The server's clock now: its stamp on the last answer, advanced by the local clock since it arrived. */
export function useServerNow(serverNow: number | undefined): number {
  const now = useNow(1000);
  const seen = useRef<{ server: number; local: number } | undefined>(undefined);
  if (serverNow !== undefined && seen.current?.server !== serverNow) seen.current = { server: serverNow, local: Date.now() };
  return seen.current ? seen.current.server + Math.max(0, now - seen.current.local) : now;
}
