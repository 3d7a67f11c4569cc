import { createHmac, timingSafeEqual } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../core/canonical-json.ts';
import type { AuditCheckpoint, ChainHead } from '../store/audit.ts';

/** A signed chain head, as appended to the anchor file and served by `GET /admin/audit/head`. */
export interface HeadAnchor extends ChainHead {
  type: 'head';
  /** The chain: a Postgres replica, '' for a single-chain sink. */
  chain: string;
  /** Epoch ms when it was signed. */
  time: number;
  sig: string;
}

/** A retention checkpoint as appended to the anchor file. */
export type CheckpointAnchor = AuditCheckpoint & { type: 'checkpoint' };

export type Anchor = HeadAnchor | CheckpointAnchor;

/** HMAC-SHA256 (hex) over the canonical JSON of everything but `sig`. */
export function sign(key: string, payload: object): string {
  const { sig: _omit, ...rest } = payload as { sig?: unknown };
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('hex');
}

/** Whether `signed.sig` is the key's signature over the rest (constant time). */
export function checkSig(key: string, signed: object & { sig?: unknown }): boolean {
  if (typeof signed.sig !== 'string' || !/^[0-9a-f]{64}$/.test(signed.sig)) return false;
  const expected = Buffer.from(sign(key, signed), 'hex');
  return timingSafeEqual(expected, Buffer.from(signed.sig, 'hex'));
}

/** A checkpoint's signature covers the checkpoint alone (not the anchor file's `type`). */
export function checkCheckpoint(key: string, checkpoint: AuditCheckpoint): boolean {
  const { type: _t, ...rest } = checkpoint as CheckpointAnchor;
  return checkSig(key, rest);
}

export function signHead(key: string, chain: string, head: ChainHead, time: number): HeadAnchor {
  const unsigned = { type: 'head' as const, chain, seq: head.seq, hash: head.hash, time };
  return { ...unsigned, sig: sign(key, unsigned) };
}

/** Append one line and fsync: an anchor is only worth something once it is on disk outside the store. */
export async function appendAnchor(path: string, anchor: Anchor): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const handle = await open(path, 'a', 0o600);
  try {
    await handle.appendFile(`${canonicalJson(anchor)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export class AnchorFileError extends Error {
  override name = 'AnchorFileError';
}

/** Every anchor in a file, in order; a line that is not an anchor is an error (naming its line). */
export async function readAnchors(path: string): Promise<Anchor[]> {
  const text = await readFile(path, 'utf8');
  const anchors: Anchor[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AnchorFileError(`${path}:${i + 1}: not an anchor (not JSON)`);
    }
    if (!isAnchor(value)) throw new AnchorFileError(`${path}:${i + 1}: not an anchor`);
    anchors.push(value);
  }
  return anchors;
}

function isAnchor(value: unknown): value is Anchor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const common =
    typeof v.chain === 'string' && Number.isSafeInteger(v.seq) && typeof v.hash === 'string' && typeof v.time === 'number' && typeof v.sig === 'string';
  if (!common) return false;
  if (v.type === 'head') return true;
  return v.type === 'checkpoint' && typeof v.writers === 'object' && v.writers !== null;
}

/** What an anchor file says each chain must still hold: its latest signed head and checkpoint. */
export interface AnchorSummary {
  heads: Map<string, HeadAnchor>;
  checkpoints: Map<string, CheckpointAnchor>;
  /** The first line whose signature does not match the key (a forged or foreign anchor). */
  forged?: { line: number; anchor: Anchor };
  count: number;
}

export function summarizeAnchors(anchors: readonly Anchor[], key: string): AnchorSummary {
  const heads = new Map<string, HeadAnchor>();
  const checkpoints = new Map<string, CheckpointAnchor>();
  for (let i = 0; i < anchors.length; i++) {
    const anchor = anchors[i]!;
    const ok = anchor.type === 'head' ? checkSig(key, anchor) : checkCheckpoint(key, anchor);
    if (!ok) return { heads, checkpoints, forged: { line: i + 1, anchor }, count: anchors.length };
    const map = anchor.type === 'head' ? heads : checkpoints;
    const known = map.get(anchor.chain);
    if (!known || anchor.seq >= known.seq) (map as Map<string, Anchor>).set(anchor.chain, anchor);
  }
  return { heads, checkpoints, count: anchors.length };
}
