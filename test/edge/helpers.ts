import { request as httpRequest, type Agent } from 'node:http';
import type { ConfigInput } from '../../src/config/schema.ts';

export const BOT_KEY = 'sk-edge-bot-0001';
export const OTHER_KEY = 'sk-edge-other-0001';
export const ADMIN_TOKEN = 'edge-admin-token-0001';

/** Models on the simulator, the demo tool server, an admin token, and breakers that open on the first failure. */
export function edgeConfig(extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096 } },
    toolServers: { demo: { kind: 'builtin' } },
    tenants: { acme: {} },
    agents: {
      bot: {
        tenant: 'acme',
        keys: [BOT_KEY],
        allow: { models: ['*'], tools: ['*'] },
        limits: { maxConsecutiveErrors: 1000, maxSteps: 100000, maxToolCalls: 100000 },
      },
      other: { tenant: 'acme', keys: [OTHER_KEY], allow: { models: ['*'], tools: ['*'] } },
    },
    breakers: { defaults: { failureThreshold: 1, cooldownMs: 60_000 } },
    defaults: { retry: [] },
    server: { adminToken: ADMIN_TOKEN },
    ...extra,
  } as ConfigInput;
}

/** A JSON value nested `depth` levels deep. */
export function nested(depth: number, leaf: unknown = 1): string {
  return '{"a":'.repeat(depth) + JSON.stringify(leaf) + '}'.repeat(depth);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One raw HTTP request (node:http, so hostile bodies and headers go out exactly as given). */
export function raw(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer; agent?: Agent | false },
): Promise<RawResponse> {
  const target = new URL(options.path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'POST',
        path: options.path,
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${BOT_KEY}` };
