import type { ChainHead, VerifyOptions, VerifyResult } from '../store/audit.ts';
import type { AuditSink } from '../store/audit-sink.ts';
import { checkCheckpoint, summarizeAnchors, type Anchor } from './anchor.ts';

export type AnchoredResult = VerifyResult & {
  /** How many anchors the file held, and the chains whose latest head was checked. */
  anchors?: { count: number; chains: string[] };
};

/**
 * `verify`, with the signed heads of an anchor file as the heads the log must still hold: a cut
 * tail (the anchored event is gone) and a rewrite (it is there with another hash) fail, and so does
 * an anchor or a checkpoint not signed with the key. Sinks with one chain read chain ''; Postgres
 * each replica's own.
 */
export async function verifyAnchored(sink: AuditSink, key: string | undefined, anchors?: readonly Anchor[]): Promise<AnchoredResult> {
  const base: VerifyOptions = key ? { checkSignature: (checkpoint) => checkCheckpoint(key, checkpoint) } : {};
  if (!anchors) return sink.verify(base);
  if (!key) throw new Error('checking anchors needs the audit key (audit.key or FMGUARD_AUDIT_KEY)');
  const summary = summarizeAnchors(anchors, key);
  if (summary.forged) {
    const { line, anchor } = summary.forged;
    return {
      ok: false,
      seq: anchor.seq,
      problem: 'unsigned',
      message: `anchor line ${line} (event ${anchor.seq}) is not signed with this key: the anchor file was forged or another key signed it`,
      position: 0,
      checked: 0,
    };
  }
  const heads: Record<string, ChainHead> = {};
  for (const [chain, anchor] of summary.heads) heads[chain] = { seq: anchor.seq, hash: anchor.hash };
  const chains = Object.keys(heads).sort();
  let result: VerifyResult;
  if (sink.kind === 'postgres') {
    result = await sink.verify({ ...base, anchors: heads } as VerifyOptions);
  } else {
    const foreign = chains.find((c) => c !== '');
    if (foreign !== undefined) throw new Error(`the anchor file holds heads of chain "${foreign}", which this ${sink.kind} log does not keep`);
    result = await sink.verify({ ...base, ...(heads[''] ? { anchor: heads[''] } : {}) });
  }
  return { ...result, anchors: { count: summary.count, chains } };
}
