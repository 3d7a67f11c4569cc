import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GuardEvent } from '../runtime/events.ts';

/**
 * One line of the access log: one per HTTP request, written when the response is finished (or the
 * client left). Never a key, a prompt, a completion or tool arguments: ids, names, numbers and codes.
 */
export interface AccessEntry {
  /** When the request arrived (ISO 8601). */
  time: string;
  /** The `x-request-id` the client sent (when well-formed), else one minted here; echoed on the response. */
  requestId: string;
  method: string;
  /** The path, without the query string (a query can carry anything). */
  route: string;
  status?: number;
  agent?: string;
  tenant?: string;
  run?: string;
  model?: string;
  tool?: string;
  /** The stop code the request was refused or stopped with, if any. */
  stopCode?: string;
  latencyMs?: number;
  /** USD charged for the calls this request made (settled cost). */
  costUsd?: number;
  /** The client closed the connection before the response was finished. */
  aborted?: boolean;
}

/** Where access lines go (wiring/access-log.ts writes them with pino). */
export type AccessLogSink = (entry: AccessEntry) => void;

const current = new AsyncLocalStorage<AccessEntry>();

/** A client's request id is kept when it is short and plain, so it cannot inject into a log line or a header. */
const REQUEST_ID = /^[A-Za-z0-9._:/=+-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
}

function codeIn(headers: unknown): string | undefined {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return undefined;
  const code = (headers as OutgoingHttpHeaders)['x-fmguard-code'];
  return typeof code === 'string' ? code : undefined;
}

/**
 * Run `handle` with an access entry for this request: the request id is echoed at once, the stop code
 * is read from the `x-fmguard-code` header of the response (every refusal carries it), and the entry
 * goes to `sink` when the response is done.
 */
export function withAccessEntry(req: IncomingMessage, res: ServerResponse, path: string, sink: AccessLogSink, handle: () => Promise<void>): Promise<void> {
  const started = performance.now();
  const entry: AccessEntry = { time: new Date().toISOString(), requestId: requestIdOf(req), method: req.method ?? 'GET', route: path };
  res.setHeader('x-request-id', entry.requestId);
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    entry.stopCode = codeIn(args[1]) ?? codeIn(args[2]) ?? entry.stopCode;
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  res.once('close', () => {
    entry.status = res.statusCode;
    entry.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (!res.writableFinished) entry.aborted = true;
    try {
      sink(entry);
    } catch {
      // A failing log never fails a request.
    }
  });
  return current.run(entry, handle);
}

/**
 * The guard listener that fills the current request's entry from what the runtime decided (events
 * are emitted in the request's async context): who, which run, which model or tool, the cost, the code.
 */
export function recordAccess(event: GuardEvent): void {
  const entry = current.getStore();
  if (!entry) return;
  switch (event.type) {
    case 'call.allowed':
    case 'call.refused':
    case 'call.failed':
      entry.agent ??= event.agent;
      entry.tenant ??= event.tenant;
      entry.run ??= event.runId;
      if (event.action === 'invokeModel') entry.model ??= event.resource;
      else entry.tool ??= event.resource;
      if (event.type !== 'call.refused') entry.costUsd = (entry.costUsd ?? 0) + event.costUsd;
      if (event.type !== 'call.allowed') entry.stopCode ??= event.code;
      return;
    case 'run.started':
      entry.run ??= event.run.id;
      entry.agent ??= event.run.agent;
      entry.tenant ??= event.run.tenant;
      return;
    case 'run.stopped':
      if (entry.run === event.runId) entry.stopCode ??= event.code;
      return;
  }
}

/** What the gateway knows before the runtime does (the key's agent, before any event). */
export function noteAccess(fields: Pick<AccessEntry, 'agent' | 'tenant'>): void {
  const entry = current.getStore();
  if (!entry) return;
  entry.agent ??= fields.agent;
  entry.tenant ??= fields.tenant;
}
