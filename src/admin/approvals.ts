import type { ApprovalStatus } from '../approvals/index.ts';
import { httpFailure } from '../http/error-response.ts';
import { limitOf, notFound, oneOf, textOf } from './request.ts';
import { decisionBody, parseBody } from './schemas.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'consumed'];

async function list({ guard, query }: AdminRequest): Promise<AdminReply> {
  const approvals = await guard.listApprovals({
    status: oneOf(query, 'status', STATUSES),
    run: textOf(query, 'run'),
    agent: textOf(query, 'agent'),
    tool: textOf(query, 'tool'),
    limit: limitOf(query, 100, 1000),
  });
  return { body: { approvals } };
}

function decide(verb: 'approve' | 'deny') {
  return async ({ guard, params, req }: AdminRequest): Promise<AdminReply> => {
    const body = await parseBody(req, decisionBody);
    const by = body.by ?? 'admin';
    const reason = body.reason;
    const id = params.id!;
    const result = verb === 'approve' ? await guard.approve(id, by, reason) : await guard.deny(id, by, reason);
    if (!result.ok && result.reason === 'unknown') throw notFound(`no approval request "${id}"`);
    if (!result.ok) throw httpFailure(409, 'request.invalid', `approval ${id} is ${result.request.status}, not pending`);
    return { body: { approval: result.request } };
  };
}

export const approvalRoutes: Route[] = [
  { method: 'GET', pattern: 'approvals', handler: list },
  { method: 'POST', pattern: 'approvals/:id/approve', handler: decide('approve') },
  { method: 'POST', pattern: 'approvals/:id/deny', handler: decide('deny') },
];
