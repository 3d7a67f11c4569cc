/**
 * The floor for any Node gateway: a minimal reverse proxy with no parsing and no checks. node:http
 * in, an undici Pool out to one upstream, the request body streamed up and the upstream's status,
 * headers and body piped back. Whatever a gateway adds over this is its own work, not the HTTP hop.
 * Usage: gateway-floor.ts <upstream origin>. Prints `listening <url>`; exits when stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: gateway-floor.ts <upstream origin>');
const pool = new Pool(new URL(upstream).origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });

// Hop-by-hop headers belong to one connection, never forwarded (RFC 9110 §7.6.1).
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardable(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP.has(name)) out[name] = raw[i + 1]!;
  }
  return out;
}

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({ path: req.url ?? '/', method: req.method as 'POST', headers: forwardable(req.rawHeaders), body: hasBody ? req : undefined })
    .then((up) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(up.headers)) if (value !== undefined && !HOP.has(name)) headers[name] = value;
      res.writeHead(up.statusCode, headers);
      pipeline(up.body, res, () => {});
    })
    .catch((error: Error) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `floor: ${error.message}` } }));
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
