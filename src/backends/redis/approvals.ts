import type { ApprovalRequest, ApprovalStatus, ApprovalStore, CheckOutcome, DecideResult } from '../../store/approvals.ts';
import { approvalListeners } from '../../approvals/listeners.ts';
import { effective, matchesApprovalFilter, newRequest } from '../../approvals/transitions.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import type { RedisHandle } from './handle.ts';
import { checkApprovalScript, decideApprovalScript } from './lua/approvals.ts';

function toFields(r: ApprovalRequest): string[] {
  const f = [
    'id',
    r.id,
    'run',
    r.run,
    'agent',
    r.agent,
    'tool',
    r.tool,
    'fingerprint',
    r.fingerprint,
    'args',
    canonicalJson(r.args),
    'createdAt',
    String(r.createdAt),
    'expiresAt',
    String(r.expiresAt),
    'status',
    r.status,
  ];
  if (r.tenant !== undefined) f.push('tenant', r.tenant);
  if (r.decidedAt !== undefined) f.push('decidedAt', String(r.decidedAt));
  if (r.decidedBy !== undefined) f.push('decidedBy', r.decidedBy);
  if (r.reason !== undefined) f.push('reason', r.reason);
  if (r.consumedAt !== undefined) f.push('consumedAt', String(r.consumedAt));
  return f;
}

function fromHash(h: Record<string, string>): ApprovalRequest {
  const r: ApprovalRequest = {
    id: h.id,
    run: h.run,
    agent: h.agent,
    tool: h.tool,
    fingerprint: h.fingerprint,
    args: JSON.parse(h.args) as unknown,
    createdAt: Number(h.createdAt),
    expiresAt: Number(h.expiresAt),
    status: h.status as ApprovalStatus,
  };
  if (h.tenant !== undefined) r.tenant = h.tenant;
  if (h.decidedAt !== undefined) r.decidedAt = Number(h.decidedAt);
  if (h.decidedBy !== undefined) r.decidedBy = h.decidedBy;
  if (h.reason !== undefined) r.reason = h.reason;
  if (h.consumedAt !== undefined) r.consumedAt = Number(h.consumedAt);
  return r;
}

function fromFlat(flat: string[]): ApprovalRequest {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  return fromHash(h);
}

const PAGE = 100;

/**
 * Approvals in Redis, shared by every replica. check and decide are one Lua script each (the
 * transitions of approvals/transitions.ts), so an approval is consumed exactly once however many
 * replicas make the identical call at the same moment. Listeners hear the changes made through
 * this instance; waiters on other replicas poll (as the interface says).
 */
export function createRedisApprovalStore(handle: RedisHandle): ApprovalStore {
  const { gate } = handle;
  const prefix = handle.keys.prefix;
  const listeners = approvalListeners();
  const notify = listeners.notify;

  return {
    kind: 'redis',
    async check(input) {
      const fresh = newRequest(input);
      const callKey = JSON.stringify([input.run, input.tool, input.fingerprint]);
      const args = [prefix, callKey, String(input.now), fresh.id, ...toFields(fresh)];
      const [outcome, created, first, second] = (await gate.run('approval check', (redis) => checkApprovalScript.run(redis, args))) as [
        string,
        number,
        string[],
        string[]?,
      ];
      const request = fromFlat(first);
      let result: CheckOutcome;
      let writes: ApprovalRequest[] = [];
      if (outcome === 'consumed') {
        result = { outcome, request };
        writes = [request];
      } else if (outcome === 'pending') {
        result = { outcome, request, created: created === 1 };
        if (created === 1) writes = [request];
      } else if (outcome === 'denied') {
        result = { outcome, request };
      } else {
        const next = fromFlat(second as string[]);
        result = { outcome: 'expired', request, next };
        writes = [request, next];
      }
      notify(writes);
      return result;
    },
    async get(id, now) {
      const h = await gate.run('approval get', (redis) => redis.hgetall(`${prefix}apr:${id}`));
      return h.id === undefined ? undefined : effective(fromHash(h), now);
    },
    async decide(input) {
      const args = [prefix, input.id, String(input.now), input.status, input.by, input.reason === undefined ? '0' : '1', input.reason ?? ''];
      const reply = (await gate.run('approval decide', (redis) => decideApprovalScript.run(redis, args))) as [string, number?, string[]?];
      if (reply[0] === 'unknown') return { ok: false, reason: 'unknown' };
      const request = fromFlat(reply[2] as string[]);
      const result: DecideResult = reply[0] === 'ok' ? { ok: true, request } : { ok: false, reason: 'not-pending', request };
      if (reply[1] === 1) notify([request]);
      return result;
    },
    async list(filter, now) {
      const out: ApprovalRequest[] = [];
      const limit = filter.limit === undefined ? Infinity : Math.max(0, Math.floor(filter.limit));
      for (let start = 0; out.length < limit; start += PAGE) {
        const hashes = await gate.run('approval list', async (redis) => {
          const ids = await redis.zrevrange(`${prefix}ap:order`, start, start + PAGE - 1);
          if (ids.length === 0) return [];
          const pipeline = redis.pipeline();
          for (const id of ids) pipeline.hgetall(`${prefix}apr:${id}`);
          const replies = (await pipeline.exec()) ?? [];
          return replies.map(([err, h]) => {
            if (err) throw err;
            return h as Record<string, string>;
          });
        });
        if (hashes.length === 0) break;
        for (const h of hashes) {
          if (h.id === undefined) continue;
          const request = effective(fromHash(h), now);
          if (matchesApprovalFilter(request, filter)) out.push(request);
          if (out.length >= limit) break;
        }
      }
      return out;
    },
    subscribe: listeners.subscribe,
    async close() {
      listeners.clear();
    },
  };
}
