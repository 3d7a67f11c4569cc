/**
 * The floor for any Node gateway here: a minimal proxy with no safeguards (node:http, parse the body,
 * call the same OpenAI-compatible provider, write JSON or SSE back). bench/gateway.ts measures it
 * beside fmguard so the added latency splits into "a second HTTP hop" and "fmguard's own work".
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatRequest } from '../src/core/chat.ts';
import { createOpenAIProvider } from '../src/providers/openai/openai.ts';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: gateway-floor.ts <upstream url>');
const provider = createOpenAIProvider({ name: 'mock', baseUrl: `${upstream}/v1` });

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', async () => {
    const request = JSON.parse(Buffer.concat(parts).toString('utf8')) as ChatRequest;
    const signal = new AbortController().signal;
    if (request.stream !== true) {
      const text = JSON.stringify(await provider.complete(request, { signal }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for await (const chunk of provider.stream(request, { signal })) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
process.on('disconnect', () => process.exit(0));
