import { AUDIT_EVENT_TYPES, type AuditEventType } from '../audit/index.ts';
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
  return { body: await sink.verify() };
}

export const auditRoutes: Route[] = [
  { method: 'GET', pattern: 'audit', handler: query },
  { method: 'GET', pattern: 'audit/verify', handler: verify },
];
