import type { Clock } from '../core/clock.ts';
import { periodic } from '../core/periodic.ts';
import type { AuditSink, PruneResult } from '../store/audit-sink.ts';
import { appendAnchor, sign } from './anchor.ts';

export interface AuditPrunerOptions {
  sink: AuditSink;
  /** Events older than this are pruned. */
  maxAgeMs: number;
  /** How often. Default one hour. */
  everyMs?: number;
  /** Signs each checkpoint (HMAC-SHA256). */
  key: string;
  /** The anchor file: each checkpoint is appended there too, outside the store. */
  anchorPath?: string;
  clock: Clock;
  onError?: (error: unknown) => void;
}

export interface AuditPruner {
  /** Prune now; one result per chain that was cut. */
  pruneNow(): Promise<PruneResult[]>;
  start(): void;
  stop(): void;
}

/**
 * Audit retention by age. Each cut deletes the oldest events and stores a signed checkpoint of the
 * last one deleted (seq, hash, each writer's last number), so `verify` starts from the checkpoint
 * and the chain stays verifiable across the cut; the checkpoint is also appended to the anchor file.
 */
export function createAuditPruner({ sink, maxAgeMs, everyMs = 3_600_000, key, anchorPath, clock, onError = () => {} }: AuditPrunerOptions): AuditPruner {
  if (!sink.prune) throw new Error(`the ${sink.kind} audit sink cannot prune; audit.retention needs sqlite, postgres or memory`);
  const prune = sink.prune.bind(sink);

  const pruneNow = async () => {
    const now = clock.now();
    const results = await prune({ before: now - maxAgeMs, now, sign: (checkpoint) => sign(key, checkpoint) });
    if (anchorPath) for (const { checkpoint } of results) await appendAnchor(anchorPath, { ...checkpoint, type: 'checkpoint' });
    return results;
  };

  const runner = periodic(pruneNow, everyMs, onError);
  return {
    pruneNow: runner.runNow,
    start: runner.start,
    stop() {
      void runner.stop();
    },
  };
}
