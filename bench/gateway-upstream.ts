/**
 * The bench's mock OpenAI-compatible upstream, a process of its own (bench/gateway.ts starts it).
 * node:http, `POST …/chat/completions` only:
 * - plain: a fixed ~300-byte `chat.completion` JSON;
 * - `"stream":true`: SSE, headers and the first chunk at once, then five more content chunks, the
 *   finish chunk, a usage chunk (when `stream_options.include_usage` asks for it) and `[DONE]` on
 *   the next turn of the event loop, so the first token is the only thing on the wire for a moment.
 * The request body is tested by substring, never parsed: the mock costs the same whoever calls it.
 * Prints `listening <url>` on stdout; exits when its stdin closes (its parent went away).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const created = 1_700_000_000;
const usage = { prompt_tokens: 14, completion_tokens: 8, total_tokens: 22 };
const JSON_BODY = JSON.stringify({
  id: 'chatcmpl-mock',
  object: 'chat.completion',
  created,
  model: 'mock-small',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage,
});
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created, model: 'mock-small', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const FIRST = chunk({ role: 'assistant', content: 'Paris' });
const REST = [' is', ' the', ' capital', ' of', ' France.'].map((content) => chunk({ content })).join('') + chunk({}, 'stop');
const USAGE = `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created, model: 'mock-small', choices: [], usage })}\n\n`;

function notFound(res: import('node:http').ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
}

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return notFound(res);
    const text = Buffer.concat(parts).toString('utf8');
    if (!/"stream"\s*:\s*true/.test(text)) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON_BODY) });
      res.end(JSON_BODY);
      return;
    }
    const withUsage = /"include_usage"\s*:\s*true/.test(text);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(FIRST);
    setImmediate(() => {
      if (res.destroyed) return;
      res.write(REST);
      res.end(`${withUsage ? USAGE : ''}data: [DONE]\n\n`);
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
