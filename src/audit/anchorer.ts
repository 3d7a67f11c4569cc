import type { Clock } from '../core/clock.ts';
import type { AuditSink } from '../store/audit-sink.ts';
import { appendAnchor, signHead, type HeadAnchor } from './anchor.ts';

export interface AnchorerOptions {
  sink: AuditSink;
  /** The HMAC key (audit.anchor.key or FMGUARD_AUDIT_KEY). */
  key: string;
  /** The anchor file: one signed head appended per period, outside the store. */
  path?: string;
  /** How often the head is signed and appended (only when it moved). Default 10 s. */
  everyMs?: number;
  clock: Clock;
  onError?: (error: unknown) => void;
}

/**
 * Signs the chain head every `everyMs` and appends it to the anchor file. Whoever can rewrite the
 * store but not this file, nor has the key, cannot cut the tail or rewrite the chain unseen past the
 * last anchor (`fmguard audit verify --anchor FILE`).
 */
export interface Anchorer {
  /** The last head signed and appended. */
  latest(): HeadAnchor | undefined;
  /** The head now, signed (appended to the file when it moved since the last anchor). */
  anchorNow(): Promise<HeadAnchor | undefined>;
  /** Sign the current head without appending (GET /admin/audit/head). */
  current(): Promise<HeadAnchor | undefined>;
  start(): void;
  stop(): void;
}

export function createAnchorer({ sink, key, path, everyMs = 10_000, clock, onError = () => {} }: AnchorerOptions): Anchorer {
  let latest: HeadAnchor | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<HeadAnchor | undefined> | undefined;

  const current = async () => {
    const { chain, head } = await sink.head();
    return head ? signHead(key, chain, head, clock.now()) : undefined;
  };

  const anchorNow = async () => {
    const anchor = await current();
    if (!anchor) return undefined;
    if (latest && latest.chain === anchor.chain && latest.seq === anchor.seq && latest.hash === anchor.hash) return latest;
    if (path) await appendAnchor(path, anchor);
    latest = anchor;
    return anchor;
  };

  // One anchoring at a time; a tick that finds one running skips.
  const tick = () => {
    if (running) return;
    running = anchorNow()
      .catch((error: unknown) => {
        onError(error);
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
  };

  return {
    latest: () => latest,
    anchorNow: async () => {
      await running;
      return anchorNow();
    },
    current,
    start() {
      if (timer) return;
      timer = setInterval(tick, everyMs);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
