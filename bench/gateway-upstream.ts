/**
 * The bench's mock OpenAI-compatible upstream: node:http, a fixed small JSON answer and a short fixed
 * SSE stream (headers and the first chunk at once, the rest on the next turn of the event loop, so
 * time to first token is measurable). Run as its own child process by bench/gateway.ts so it never
 * shares an event loop with the gateway or the load generator. Prints nothing; reports its URL over IPC.
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

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const text = Buffer.concat(parts).toString('utf8');
    // A substring test, not a parse: the mock must cost the same whoever calls it.
    if (!text.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON_BODY) });
      res.end(JSON_BODY);
      return;
    }
    const withUsage = text.includes('"include_usage":true');
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
  process.send?.({ url: `http://127.0.0.1:${port}` });
});
process.on('disconnect', () => process.exit(0));
