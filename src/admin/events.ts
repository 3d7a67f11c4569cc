import type { ServerResponse } from 'node:http';
import type { ApprovalRequest } from '../approvals/index.ts';
import { SSE_HEADERS, SseWriter } from '../http/sse.ts';
import type { Guard } from '../runtime/guard.ts';
import type { GuardEvent } from '../runtime/events.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

/** What one event says on the stream: enough to know what changed, never arguments or messages. */
export type LiveEvent = Record<string, unknown> & { type: string; at: number };

/** A guard event as the stream shows it; undefined for those a watcher does not need. */
export function toLiveEvent(event: GuardEvent): LiveEvent | undefined {
  switch (event.type) {
    case 'run.started':
      return { type: event.type, at: event.at, runId: event.run.id, agent: event.run.agent, tenant: event.run.tenant, parentId: event.run.parentId };
    case 'run.stopped':
      return { type: event.type, at: event.at, runId: event.runId, agent: event.agent, tenant: event.tenant, code: event.code };
    case 'run.ended':
      return { type: event.type, at: event.at, runId: event.runId, agent: event.agent, tenant: event.tenant };
    case 'call.allowed':
    case 'call.failed':
    case 'call.refused':
      return {
        type: event.type,
        at: event.at,
        runId: event.runId,
        agent: event.agent,
        tenant: event.tenant,
        action: event.action,
        resource: event.resource,
        ...('code' in event && { code: event.code }),
        ...('costUsd' in event && { costUsd: event.costUsd }),
      };
    case 'kill':
      return { type: event.type, at: event.at, scope: event.scope, on: event.on };
    case 'breaker.changed':
      return { type: event.type, at: event.at, scope: event.scope, from: event.from, to: event.to };
    case 'alarm.changed':
      return { type: event.type, at: event.at, alarm: event.alarm, from: event.from, to: event.to };
    case 'budget.threshold':
      return { type: event.type, at: event.at, scope: event.scope, threshold: event.threshold };
    default:
      return undefined;
  }
}

function approvalEvent(request: ApprovalRequest, at: number): LiveEvent {
  return { type: 'approval', at, id: request.id, status: request.status, runId: request.run, agent: request.agent, tool: request.tool };
}

const HEARTBEAT_MS = 15_000;
const open = new WeakMap<Guard, Set<ServerResponse>>();

/**
 * Stream this process's decisions as server-sent events (`data: {"type":…}`), for the console's live
 * views. A client that falls behind (socket buffer full) loses events and gets one `resync` when the
 * socket drains: it re-reads what it shows instead of the stream growing without bound.
 */
export function streamEvents(guard: Guard, res: ServerResponse): void {
  res.writeHead(200, { ...SSE_HEADERS, 'cache-control': 'no-store' });
  // Reconnect after 2 s if the connection drops (EventSource's own retry).
  res.write('retry: 2000\n\n');
  const writer = new SseWriter(res);
  let behind = false;
  const send = (event: LiveEvent) => {
    if (res.writableEnded || res.destroyed) return;
    if (behind) return;
    if (!writer.write(JSON.stringify(event))) behind = true;
  };
  const onDrain = () => {
    if (!behind) return;
    behind = false;
    send({ type: 'resync', at: guard.clock.now() });
  };
  send({ type: 'hello', at: guard.clock.now() });
  const offGuard = guard.on((event) => {
    const live = toLiveEvent(event);
    if (live) send(live);
  });
  const offApprovals = guard.approvals.subscribe((request) => send(approvalEvent(request, guard.clock.now())));
  const heartbeat = setInterval(() => {
    if (!behind && !res.writableEnded) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let streams = open.get(guard);
  if (!streams) open.set(guard, (streams = new Set()));
  streams.add(res);
  res.on('drain', onDrain);
  res.once('close', () => {
    clearInterval(heartbeat);
    offGuard();
    offApprovals();
    streams.delete(res);
  });
}

/** End every event stream open on this guard (the gateway closing: streams never end on their own). */
export function closeEventStreams(guard: Guard): void {
  for (const res of open.get(guard) ?? []) res.end();
}

async function events({ guard, req }: AdminRequest): Promise<AdminReply> {
  if (req.method === 'HEAD') return { stream: (res) => res.writeHead(200, SSE_HEADERS).end() };
  return { stream: (res) => streamEvents(guard, res) };
}

export const eventRoutes: Route[] = [{ method: 'GET', pattern: 'events', handler: events }];
