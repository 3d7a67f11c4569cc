import { AUDIT_EVENT_TYPES, checkCheckpoint, signHead, type AuditEventType } from '../audit/index.ts';
import { isStopCode } from '../core/codes.ts';
import type { Guard } from '../runtime/guard.ts';
import { invalid, limitOf, notFound, oneOf, textOf, timeOf } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

function sinkOf(guard: Guard) {
  if (!guard.audit) throw notFound('the audit log is turned off in this config (audit.sink: none, or the memory store without an audit sink)');
  return guard.audit.sink;
}

async function query({ guard, query: q }: AdminRequest): Promise<AdminReply> {
  const sink = sinkOf(guard);
  await guard.audit!.flush();
  const code = textOf(q, 'code');
  if (code !== undefined && !isStopCode(code)) throw invalid(`code: unknown stop code "${code}"`, 'code');
  const types = q.getAll('type').filter((t) => t !== '');
  for (const type of types) if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw invalid(`type: unknown event type "${type}"`, 'type');
  const events = await sink.query({
    run: textOf(q, 'run'),
    agent: textOf(q, 'agent'),
    tenant: textOf(q, 'tenant'),
    code,
    type: types.length === 0 ? undefined : types.length === 1 ? (types[0] as AuditEventType) : (types as AuditEventType[]),
    from: timeOf(q, 'from'),
    to: timeOf(q, 'to'),
    limit: limitOf(q, 100, 10_000),
    order: oneOf(q, 'order', ['asc', 'desc'] as const) ?? 'desc',
  });
  return { body: { events } };
}

async function verify({ guard }: AdminRequest): Promise<AdminReply> {
  const sink = sinkOf(guard);
  // Events recorded but not yet appended would otherwise look missing.
  await guard.audit!.flush();
  const key = guard.config.audit.key;
  return { body: await sink.verify(key ? { checkSignature: (checkpoint) => checkCheckpoint(key, checkpoint) } : {}) };
}

/**
 * `GET /admin/audit/head`: the chain head now, signed with the audit key when one is configured
 * (copy it anywhere outside the store; `fmguard audit verify --anchor` checks such lines), and the
 * last head appended to the anchor file.
 */
async function head({ guard }: AdminRequest): Promise<AdminReply> {
  const sink = sinkOf(guard);
  await guard.audit!.flush();
  const key = guard.config.audit.key;
  const { chain, head: current } = await sink.head();
  const signed = current && key ? signHead(key, chain, current, guard.clock.now()) : undefined;
  return {
    body: {
      chain,
      head: signed ?? (current ? { type: 'head', chain, seq: current.seq, hash: current.hash, time: guard.clock.now() } : null),
      signed: signed !== undefined,
      anchored: guard.audit!.anchorer?.latest() ?? null,
    },
  };
}

/** `GET /admin/audit/status`: the log's state, the writer, what waits in the spool, the last sink error. */
async function status({ guard }: AdminRequest): Promise<AdminReply> {
  sinkOf(guard);
  return { body: guard.audit!.state() };
}

export const auditRoutes: Route[] = [
  { method: 'GET', pattern: 'audit', handler: query },
  { method: 'GET', pattern: 'audit/verify', handler: verify },
  { method: 'GET', pattern: 'audit/head', handler: head },
  { method: 'GET', pattern: 'audit/status', handler: status },
];
