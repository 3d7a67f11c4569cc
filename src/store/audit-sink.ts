import type { AuditCheckpoint, AuditEvent, AuditFilter, ChainHead, StoredEvent, VerifyOptions, VerifyResult } from './audit.ts';

/** What a retention cut asks of a sink (see `AuditSink.prune`). */
export interface PruneRequest {
  /** Prune events recorded before this epoch ms. */
  before: number;
  /** Epoch ms of the cut (the checkpoint's `time`). */
  now: number;
  /** Signs a checkpoint (HMAC over its canonical JSON without `sig`); the sink stores what it returns. */
  sign: (checkpoint: Omit<AuditCheckpoint, 'sig'>) => string;
}

/** One chain's cut: how many events went and the signed checkpoint now standing for them. */
export interface PruneResult {
  pruned: number;
  checkpoint: AuditCheckpoint;
}

/**
 * Where audit events go. Every sink numbers and chains events itself, so the chain is valid whoever
 * appends. Implementations: SQLite (default), JSON Lines, Postgres (replicas), memory (tests).
 */
export interface AuditSink {
  readonly kind: string;
  /** Number, chain and persist one event; resolves with it as stored. */
  append(event: AuditEvent): Promise<StoredEvent>;
  /**
   * Number, chain and persist events in the order given, all or none (one transaction where the
   * sink has them): the audit log's group commit.
   */
  appendBatch(events: readonly AuditEvent[]): Promise<StoredEvent[]>;
  /**
   * The same, committed before it returns (SQLite): the audit log then writes a full batch inside
   * `record`, so no more than one batch ever waits in memory.
   */
  appendBatchSync?(events: readonly AuditEvent[]): StoredEvent[];
  /** The highest `wseq` stored for `writer`, 0 when none: where a spool resumes after a failed drain. */
  writerSeq(writer: string): Promise<number>;
  /** This sink's own chain: its name ('' for a single-chain sink) and last event, if any. */
  head(): Promise<{ chain: string; head: ChainHead | undefined }>;
  query(filter?: AuditFilter): Promise<StoredEvent[]>;
  /** The last `n` events, oldest first. */
  tail(n: number): Promise<StoredEvent[]>;
  /** Walk the whole chain; name the first event changed, removed, reordered or inserted. */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * Retention: delete the oldest events, recorded before `before`, and keep a signed checkpoint of
   * the last one pruned so `verify` starts there. One result per chain that was cut. Sinks that
   * cannot delete (JSON Lines) leave it out.
   */
  prune?(request: PruneRequest): Promise<PruneResult[]>;
  /** The checkpoints standing for pruned events, one per chain. */
  checkpoints?(): Promise<AuditCheckpoint[]>;
  close(): Promise<void>;
}

/** An audit sink a store backend keeps beside its state (see Store.audit). */
export interface AuditSinkFactory {
  /** The sink kind it opens (`sqlite`, `memory`). */
  readonly kind: string;
  /** Whether events outlive the process (the default audit log is on only for a durable one). */
  readonly durable: boolean;
  open(): AuditSink;
}

/** An event waiting in a spool, with its place there. */
export interface SpooledEvent {
  id: number;
  event: AuditEvent;
}

/**
 * A bounded local queue in front of a remote sink (Postgres): events are kept here, durably and in
 * order, before they are sent, so an unreachable sink costs no event and a restart resumes the drain.
 * The spool is one writer: it keeps the writer's id and the last number it gave across restarts.
 */
export interface AuditSpool {
  readonly path: string;
  /** The writer id stored in the spool (made once, when the spool was created). */
  readonly writer: string;
  /** The last `wseq` the writer gave an event that the spool kept. */
  readonly lastWseq: number;
  /** Keep events, in order, in one transaction; durable when it resolves. */
  put(events: readonly AuditEvent[]): Promise<void>;
  /** The same, durable before it returns (a SQLite spool). */
  putSync?(events: readonly AuditEvent[]): void;
  /** The oldest `limit` events, oldest first. */
  peek(limit: number): Promise<SpooledEvent[]>;
  /** Forget every event up to and including this id (they reached the sink). */
  remove(throughId: number): Promise<void>;
  /** Forget every event whose `wseq` is at most this (the sink already has them). */
  removeThroughWseq(wseq: number): Promise<void>;
  /** What waits: event count, bytes of their bodies, and when the oldest was recorded. */
  stats(): { events: number; bytes: number; oldest?: number };
  close(): Promise<void>;
}
