import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { sendHttpError } from './http-io.ts';

/** The SDK transport's limit, kept so a batch is refused the same way. */
const MAX_BATCH_SIZE = 100;

/** One POST waiting for the responses to its requests (ids as the server sees them). */
interface Exchange {
  res: ServerResponse;
  ids: RequestId[];
  /** Server-side id → the client's id, when ids are rewritten (shared stateless transport). */
  original?: Map<RequestId, RequestId>;
  responses: Map<RequestId, JSONRPCMessage>;
}

export interface JsonHttpTransportOptions {
  /** Sent as `mcp-session-id`; undefined for stateless use. */
  sessionId?: string;
  /**
   * One transport (and one MCP server) for every stateless request: request ids are rewritten to
   * ids unique to this transport, so clients' ids cannot collide, and a client that hangs up has
   * its requests cancelled (the handlers' abort signals fire, so the upstream call is cancelled).
   */
  shared?: boolean;
}

function acceptsBoth(accept: string | undefined): boolean {
  return (accept?.includes('application/json') && accept.includes('text/event-stream')) === true;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

/**
 * The server side of MCP Streamable HTTP for node:http, in its JSON-response form: every POST that
 * carries requests is answered with one JSON body once all of them are answered; a POST of
 * notifications or responses gets 202. No server-initiated stream is offered (GET is 405, which the
 * spec allows), so nothing is converted to web Request/Response objects or streams: measured here,
 * that conversion in the SDK's node transport cost more than the rest of the MCP handling together.
 * Message validation, status codes and error texts follow the SDK's transport; the MCP semantics
 * stay in the SDK's `Server`.
 */
export class JsonHttpTransport implements Transport {
  readonly sessionId: string | undefined;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  private readonly pending = new Map<RequestId, Exchange>();
  private initialized = false;
  private closed = false;

  private readonly shared: boolean;
  private seq = 0;

  constructor(options: JsonHttpTransportOptions = {}) {
    this.sessionId = options.sessionId;
    this.shared = options.shared ?? false;
  }

  async start(): Promise<void> {}

  /**
   * Hand one POST (body already parsed) to the server. Its response is written once the server has
   * answered every request in it (or at close()); a POST without requests gets 202 at once.
   */
  handlePost(
    headers: { accept?: string; 'content-type'?: string; 'mcp-protocol-version'?: string | string[] },
    body: unknown,
    res: ServerResponse,
    authInfo?: AuthInfo,
  ): void {
    if (this.closed) return sendHttpError(res, 404, 'request.invalid', 'Session not found', { rpcCode: -32001 });
    if (!acceptsBoth(headers.accept)) {
      return sendHttpError(res, 406, 'request.invalid', 'Not Acceptable: Client must accept both application/json and text/event-stream', { rpcCode: -32000 });
    }
    if (!isJson(headers['content-type'])) {
      return sendHttpError(res, 415, 'request.invalid', 'Unsupported Media Type: Content-Type must be application/json', { rpcCode: -32000 });
    }
    const raw = Array.isArray(body) ? body : [body];
    if (raw.length > MAX_BATCH_SIZE) {
      return sendHttpError(res, 400, 'request.invalid', `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`, { rpcCode: -32600 });
    }
    let messages: JSONRPCMessage[];
    try {
      messages = raw.map((m) => JSONRPCMessageSchema.parse(m));
    } catch {
      return sendHttpError(res, 400, 'request.invalid', 'Parse error: Invalid JSON-RPC message', { rpcCode: -32700 });
    }
    const initializing = messages.some((m) => 'method' in m && m.method === 'initialize');
    if (initializing) {
      if (this.initialized && this.sessionId !== undefined) {
        return sendHttpError(res, 400, 'request.invalid', 'Invalid Request: Server already initialized', { rpcCode: -32600 });
      }
      if (messages.length > 1)
        return sendHttpError(res, 400, 'request.invalid', 'Invalid Request: Only one initialization request is allowed', { rpcCode: -32600 });
      this.initialized = true;
    } else {
      const version = headers['mcp-protocol-version'];
      if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
        return sendHttpError(res, 400, 'request.invalid', `Bad Request: Unsupported protocol version: ${version} (supported versions: ${supported})`, {
          rpcCode: -32000,
        });
      }
    }

    let original: Map<RequestId, RequestId> | undefined;
    if (this.shared) {
      original = new Map();
      messages = messages.map((m) => {
        if (!('method' in m) || !('id' in m)) return m;
        const id = `s${this.seq++}`;
        original!.set(id, m.id);
        return { ...m, id };
      });
    }
    const ids = messages.filter((m) => 'method' in m && 'id' in m).map((m) => (m as { id: RequestId }).id);
    if (ids.length === 0) {
      res.writeHead(202, this.sessionHeader()).end();
    } else {
      const exchange: Exchange = { res, ids, original, responses: new Map() };
      for (const id of ids) this.pending.set(id, exchange);
      res.once('close', () => this.hangUp(exchange));
    }
    for (const message of messages) {
      // Stateless clients cannot cancel by id (their ids are not ours); they cancel by hanging up.
      if (this.shared && 'method' in message && message.method === 'notifications/cancelled') continue;
      this.onmessage?.(message, { authInfo });
    }
  }

  /**
   * The client no longer waits: its unanswered requests' answers are dropped, and on a shared
   * transport the requests are cancelled (a session's client cancels explicitly, by id).
   */
  private hangUp(exchange: Exchange): void {
    for (const id of exchange.ids) {
      if (this.pending.get(id) !== exchange) continue;
      this.pending.delete(id);
      if (this.shared) {
        this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the client closed the connection' } });
      }
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // Only responses have somewhere to go: without a server-initiated stream, notifications and
    // requests from the server are dropped, as the SDK's transport does in JSON-response mode.
    if (!('id' in message) || 'method' in message || message.id === undefined) return;
    const id = message.id;
    const exchange = this.pending.get(id);
    if (!exchange) return;
    this.pending.delete(id);
    const theirs = exchange.original?.get(id);
    exchange.responses.set(id, theirs === undefined ? message : { ...message, id: theirs });
    if (exchange.responses.size < exchange.ids.length) return;
    const answers = exchange.ids.map((id) => exchange.responses.get(id));
    const text = JSON.stringify(answers.length === 1 ? answers[0] : answers);
    if (exchange.res.writableEnded || exchange.res.destroyed) return;
    exchange.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...this.sessionHeader() });
    exchange.res.end(text);
  }

  private sessionHeader(): Record<string, string> {
    return this.sessionId === undefined ? {} : { 'mcp-session-id': this.sessionId };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = new Set(this.pending.values());
    this.pending.clear();
    for (const exchange of open) {
      if (!exchange.res.headersSent) sendHttpError(exchange.res, 404, 'request.invalid', 'Session closed', { rpcCode: -32000 });
    }
    this.onclose?.();
  }
}
