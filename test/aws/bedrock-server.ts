import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';

/**
 * A local Amazon Bedrock Runtime on a loopback port, speaking the real wire protocol for Converse
 * (`POST /model/{modelId}/converse`, JSON) and ConverseStream (`POST /model/{modelId}/converse-stream`,
 * `application/vnd.amazon.eventstream` frames encoded with @smithy/eventstream-codec). It accepts any
 * SigV4-signed request (it checks that one is signed, not the signature) and answers what each
 * request's script says: text, a tool use, an AWS error, a mid-stream exception, or a stall.
 */

export interface ScriptUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export type Script =
  | { kind: 'text'; text: string; usage?: ScriptUsage; stopReason?: string }
  | { kind: 'tool'; name: string; input: Record<string, unknown>; id?: string; text?: string; usage?: ScriptUsage }
  /** An AWS error response: the exception's name, its HTTP status, and optionally a retry-after. */
  | { kind: 'error'; name: string; status: number; message?: string; retryAfterSeconds?: number }
  /** A stream that sends `deltas` text deltas, then nothing until the client goes away. */
  | { kind: 'stall'; deltas: number }
  /** A stream that sends `deltas` text deltas, then an exception event. */
  | { kind: 'stream-error'; deltas: number; exception: string; message?: string };

export interface RecordedCall {
  operation: 'converse' | 'converse-stream';
  modelId: string;
  requestId: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  script: Script;
  /** Resolves when the connection that carried this call closed (for a kill: before the end). */
  connectionClosed: Promise<void>;
  /** The response was written to its end. */
  completed: boolean;
}

export interface BedrockServer {
  url: string;
  calls: RecordedCall[];
  /** Scripts for the next calls, in order; when none is queued, `fallback` answers. */
  queue(...scripts: Script[]): void;
  fallback: (call: { operation: string; modelId: string; body: Record<string, unknown> }) => Script;
  /** Connections accepted since start (keep-alive reuse keeps this low). */
  connections(): number;
  /** Forget the recorded calls and drop the queued scripts. */
  reset(): void;
  close(): Promise<void>;
}

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

function frame(type: 'event' | 'exception', name: string, payload: unknown): Uint8Array {
  const nameHeader = type === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: type },
      [nameHeader]: { type: 'string', value: name },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: new Uint8Array(Buffer.from(JSON.stringify(payload), 'utf8')),
  });
}

/** The words of every text block of a Converse request (a stand-in tokenizer: one word, one token). */
export function wordCount(body: Record<string, unknown>): number {
  let words = 0;
  const count = (text: unknown) => {
    if (typeof text === 'string') words += text.split(/\s+/).filter(Boolean).length;
  };
  for (const block of (body.system as Array<{ text?: string }> | undefined) ?? []) count(block.text);
  for (const message of (body.messages as Array<{ content: Array<Record<string, any>> }> | undefined) ?? []) {
    for (const block of message.content) {
      count(block.text);
      if (block.toolUse) count(JSON.stringify(block.toolUse.input));
      for (const part of block.toolResult?.content ?? []) count(part.text);
    }
  }
  return words;
}

/** Text split into deltas of one word each (with its trailing space), as models stream. */
export function deltasOf(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function usageOf(script: { usage?: ScriptUsage }, body: Record<string, unknown>, outputWords: number) {
  const inputTokens = script.usage?.inputTokens ?? wordCount(body) + 10;
  const outputTokens = script.usage?.outputTokens ?? outputWords;
  const usage: Record<string, number> = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  if (script.usage?.cacheReadInputTokens !== undefined) usage.cacheReadInputTokens = script.usage.cacheReadInputTokens;
  if (script.usage?.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = script.usage.cacheWriteInputTokens;
  usage.totalTokens += (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
  return usage;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sendError(res: ServerResponse, requestId: string, script: Extract<Script, { kind: 'error' }>): void {
  const body = JSON.stringify({ message: script.message ?? `${script.name} (local Bedrock)` });
  res.writeHead(script.status, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${script.name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    ...(script.retryAfterSeconds !== undefined ? { 'retry-after': String(script.retryAfterSeconds) } : {}),
  });
  res.end(body);
}

function converseJson(script: Script, body: Record<string, unknown>) {
  if (script.kind === 'text') {
    return {
      output: { message: { role: 'assistant', content: [{ text: script.text }] } },
      stopReason: script.stopReason ?? 'end_turn',
      usage: usageOf(script, body, deltasOf(script.text).length),
      metrics: { latencyMs: 1 },
    };
  }
  if (script.kind === 'tool') {
    const content: unknown[] = [];
    if (script.text) content.push({ text: script.text });
    content.push({ toolUse: { toolUseId: script.id ?? 'tooluse_1', name: script.name, input: script.input } });
    const words = deltasOf(script.text ?? '').length + Math.ceil(JSON.stringify(script.input).length / 4);
    return { output: { message: { role: 'assistant', content } }, stopReason: 'tool_use', usage: usageOf(script, body, words), metrics: { latencyMs: 1 } };
  }
  throw new Error(`script ${script.kind} has no Converse (non-streaming) form`);
}

/** Write one frame; resolves once it is flushed (or at once when the client is gone). */
function write(res: ServerResponse, bytes: Uint8Array): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.write(bytes, () => resolve()));
}

async function streamScript(
  res: ServerResponse,
  requestId: string,
  script: Exclude<Script, { kind: 'error' }>,
  body: Record<string, unknown>,
): Promise<boolean> {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
  await write(res, frame('event', 'messageStart', { role: 'assistant' }));
  if (script.kind === 'stall' || script.kind === 'stream-error') {
    for (let i = 0; i < script.deltas; i++) await write(res, frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: `word${i} ` } }));
    if (script.kind === 'stall') return false; // never ends: the client must cut it
    await write(res, frame('exception', script.exception, { message: script.message ?? `${script.exception} (local Bedrock)` }));
    res.end();
    return true;
  }
  let outputWords = 0;
  let index = 0;
  const text = script.kind === 'text' ? script.text : (script.text ?? '');
  if (text) {
    for (const delta of deltasOf(text)) {
      await write(res, frame('event', 'contentBlockDelta', { contentBlockIndex: index, delta: { text: delta } }));
      outputWords++;
    }
    await write(res, frame('event', 'contentBlockStop', { contentBlockIndex: index }));
    index++;
  }
  let stopReason = script.kind === 'text' ? (script.stopReason ?? 'end_turn') : 'tool_use';
  if (script.kind === 'tool') {
    await write(
      res,
      frame('event', 'contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: script.id ?? 'tooluse_1', name: script.name } } }),
    );
    const json = JSON.stringify(script.input);
    // The input arrives in pieces, as Bedrock sends it.
    for (let at = 0; at < json.length; at += 7) {
      await write(res, frame('event', 'contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: json.slice(at, at + 7) } } }));
    }
    await write(res, frame('event', 'contentBlockStop', { contentBlockIndex: index }));
    outputWords += Math.ceil(json.length / 4);
    stopReason = 'tool_use';
  }
  await write(res, frame('event', 'messageStop', { stopReason }));
  await write(res, frame('event', 'metadata', { usage: usageOf(script, body, outputWords), metrics: { latencyMs: 1 } }));
  res.end();
  return true;
}

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

export async function startBedrockServer(): Promise<BedrockServer> {
  const queued: Script[] = [];
  const calls: RecordedCall[] = [];
  let connections = 0;
  const state: BedrockServer = {
    url: '',
    calls,
    queue: (...scripts) => queued.push(...scripts),
    fallback: () => ({ kind: 'text', text: 'Hello from the local Bedrock.' }),
    connections: () => connections,
    reset: () => {
      calls.length = 0;
      queued.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer(async (req, res) => {
    const requestId = randomUUID();
    const match = ROUTE.exec(req.url ?? '');
    const text = await readBody(req);
    if (req.method !== 'POST' || !match) {
      sendError(res, requestId, { kind: 'error', name: 'UnknownOperationException', status: 404 });
      return;
    }
    // The SDK must have signed the request (SigV4 for the bedrock service); the signature is not verified.
    const auth = req.headers.authorization ?? '';
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(auth)) {
      sendError(res, requestId, { kind: 'error', name: 'UnrecognizedClientException', status: 403, message: 'missing or malformed SigV4 authorization' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      sendError(res, requestId, { kind: 'error', name: 'SerializationException', status: 400 });
      return;
    }
    const operation = match[2] as RecordedCall['operation'];
    const modelId = decodeURIComponent(match[1]!);
    const script = queued.shift() ?? state.fallback({ operation, modelId, body });
    const socket = req.socket;
    const connectionClosed = new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      else socket.once('close', () => resolve());
    });
    const call: RecordedCall = { operation, modelId, requestId, headers: req.headers, body, script, connectionClosed, completed: false };
    calls.push(call);
    if (script.kind === 'error') {
      sendError(res, requestId, script);
      call.completed = true;
      return;
    }
    if (operation === 'converse') {
      const json = JSON.stringify(converseJson(script, body));
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(json) });
      res.end(json);
      call.completed = true;
      return;
    }
    call.completed = await streamScript(res, requestId, script, body);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** Throttle the next `n` calls (ThrottlingException, 429), then answer with `then`. */
export function throttleThen(n: number, then: Script): Script[] {
  return [
    ...Array.from(
      { length: n },
      (): Script => ({ kind: 'error', name: 'ThrottlingException', status: 429, message: 'Too many requests, please wait before trying again.' }),
    ),
    then,
  ];
}
