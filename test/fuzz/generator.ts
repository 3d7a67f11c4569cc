/**
 * A deterministic generator of malformed and hostile HTTP requests for every route of the gateway:
 * wrong types, deep nesting, huge strings, invalid UTF-8, duplicate keys, prototype keys, bad headers,
 * foreign run ids. Same seed, same requests. Used by test/fuzz/fuzz.test.ts (and reusable by a soak).
 */

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What was done to it, for the report. */
  kind: string;
}

export interface FuzzKeys {
  agentKey: string;
  otherKey: string;
  adminToken: string;
  /** A run id that belongs to the other agent (a foreign run). */
  foreignRunId?: string;
  model: string;
  mcpServer: string;
}

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Values of the wrong type for any field. */
function wrongValue(r: Rand): unknown {
  return pick(r, [null, true, false, 0, -1, 1e308, -0, 3.14, '', 'x', [], {}, [[[]]], { a: { b: {} } }, '\u0000', '\ud800', 'a'.repeat(int(r, 1, 5000))]);
}

function deep(depth: number, r: Rand): string {
  const open = r() < 0.5 ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return open.repeat(depth) + '1' + close.repeat(depth);
}

function baseBody(route: string, keys: FuzzKeys, r: Rand): Record<string, unknown> {
  // No scenario that fails or stalls upstream on purpose: a real upstream failure may move a breaker.
  const text = pick(r, ['hi', 'write', '[sim:long 1000000000] go', '[sim:tool_call] go', '[sim:tool_loop] go', '']);
  switch (route) {
    case '/v1/chat/completions':
      return { model: keys.model, messages: [{ role: 'user', content: text }], max_tokens: int(r, 1, 64) };
    case '/v1/responses':
      return { model: keys.model, input: text, max_output_tokens: int(r, 16, 64) };
    case '/v1/messages':
      return { model: keys.model, max_tokens: int(r, 1, 64), messages: [{ role: 'user', content: text }] };
    case '/v1/embeddings':
      return { model: keys.model, input: text || 'x' };
    default:
      return {};
  }
}

/** A JSON text with a hostile edit somewhere in an otherwise plausible body. */
function hostileJson(body: Record<string, unknown>, r: Rand): { text: string | Buffer; kind: string } {
  const fields = Object.keys(body);
  const field = fields.length > 0 ? pick(r, fields) : 'x';
  switch (int(r, 0, 11)) {
    case 0:
      return { text: JSON.stringify({ ...body, [field]: wrongValue(r) }), kind: 'wrong-type' };
    case 1: {
      const json = JSON.stringify({ ...body, [field]: '@@DEEP@@' });
      return { text: json.replace('"@@DEEP@@"', deep(int(r, 65, 20_000), r)), kind: 'deep' };
    }
    case 2:
      return { text: JSON.stringify({ ...body, [field]: 'x'.repeat(int(r, 10_000, 200_000)) }), kind: 'huge-string' };
    case 3: {
      const json = Buffer.from(JSON.stringify({ ...body, [field]: 'XXXX' }));
      const at = json.indexOf('XXXX');
      const bad = pick(r, [
        [0xff, 0xfe],
        [0xc0, 0x80],
        [0xed, 0xa0, 0x80],
        [0xf8, 0x88, 0x80, 0x80],
      ]);
      return { text: Buffer.concat([json.subarray(0, at), Buffer.from(bad), json.subarray(at + 4)]), kind: 'invalid-utf8' };
    }
    case 4: {
      const json = JSON.stringify(body);
      return { text: `{${JSON.stringify(field)}:${JSON.stringify(wrongValue(r))},${json.slice(1)}`, kind: 'duplicate-key' };
    }
    case 5: {
      const key = pick(r, ['__proto__', 'constructor', 'prototype']);
      const json = JSON.stringify(body);
      const inner = `{"${key}":{"polluted":true,"isAdmin":true,"toString":1}}`;
      return { text: `{"${key}":${inner},${json.slice(1)}`.replace(/,}$/, '}'), kind: 'proto-key' };
    }
    case 6:
      return {
        text: JSON.stringify({ ...body, messages: [{ role: pick(r, ['system', 'tool', 'assistant', 'x', '']), content: wrongValue(r) }] }),
        kind: 'bad-message',
      };
    case 7:
      return { text: JSON.stringify(body).slice(0, int(r, 0, 20)), kind: 'truncated' };
    case 8:
      return { text: pick(r, ['', ' ', 'null', '[]', '"x"', '1', 'true', '{}', '{"model":null}', '\u0000']), kind: 'not-an-object' };
    case 9:
      return {
        text: JSON.stringify({
          ...body,
          tools: [{ type: 'function', function: { name: wrongValue(r), parameters: wrongValue(r) } }],
          tool_choice: wrongValue(r),
        }),
        kind: 'bad-tools',
      };
    case 10:
      return { text: JSON.stringify({ ...body, stream: wrongValue(r), stream_options: wrongValue(r), n: wrongValue(r) }), kind: 'bad-options' };
    default:
      return { text: JSON.stringify({ ...body, model: pick(r, ['nope', '', '../etc/passwd', 'sim-small\u0000', 'x'.repeat(10_000)]) }), kind: 'bad-model' };
  }
}

function authHeaders(r: Rand, keys: FuzzKeys, route: string): { headers: Record<string, string>; kind: string } {
  const n = r();
  const key: Record<string, string> = route === '/v1/messages' && r() < 0.5 ? { 'x-api-key': keys.agentKey } : { authorization: `Bearer ${keys.agentKey}` };
  if (n < 0.7) return { headers: key, kind: 'auth' };
  const bad: Array<[Record<string, string>, string]> = [
    [{}, 'no-auth'],
    [{ authorization: 'Bearer' }, 'empty-bearer'],
    [{ authorization: `Basic ${keys.agentKey}` }, 'basic'],
    [{ authorization: `Bearer ${keys.agentKey} extra` }, 'bearer-extra'],
    [{ authorization: `Bearer sk-${'z'.repeat(int(r, 1, 4000))}` }, 'unknown-key'],
    [{ authorization: `Bearer ${keys.adminToken}` }, 'admin-token-as-key'],
    [{ authorization: 'Bearer \u00ff\u00fe' }, 'latin1-key'],
  ];
  return { headers: pick(r, bad)[0], kind: pick(r, bad)[1] };
}

function runHeaders(r: Rand, keys: FuzzKeys): Record<string, string> {
  const n = r();
  if (n < 0.8) return {};
  const foreign = keys.foreignRunId ?? 'run_foreign';
  return pick<Record<string, string>>(r, [
    { 'x-fmguard-run': foreign },
    { 'x-fmguard-parent-run': foreign },
    { 'x-fmguard-run': 'x'.repeat(int(r, 200, 3000)) },
    { 'x-fmguard-run': '../../admin' },
    { 'x-fmguard-run': '' },
    { 'x-fmguard-parent-run': 'run_does_not_exist' },
    { 'x-fmguard-run': '__proto__' },
  ]);
}

const MODEL_ROUTES = ['/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1/embeddings'] as const;
const ADMIN_PATHS = [
  '/admin/kill',
  '/admin/unkill',
  '/admin/runs',
  '/admin/runs/x/kill',
  '/admin/alarms/none/state',
  '/admin/breakers',
  '/admin/live/breakers',
  '/admin/audit',
  '/admin/nope',
];

/** `count` requests from `seed`, spread over every route. */
export function* generate(seed: number, count: number, keys: FuzzKeys): Generator<FuzzRequest> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const lane = r();
    if (lane < 0.56) {
      const route = pick(r, MODEL_ROUTES);
      const auth = authHeaders(r, keys, route);
      const body = hostileJson(baseBody(route, keys, r), r);
      const ct =
        r() < 0.9
          ? { 'content-type': 'application/json' }
          : { 'content-type': pick(r, ['text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=latin1']) };
      const method = r() < 0.95 ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE', 'PATCH']);
      yield {
        method,
        path: route,
        headers: { ...auth.headers, ...ct, ...runHeaders(r, keys), 'anthropic-version': '2023-06-01' },
        body: Buffer.from(body.text),
        kind: `${route} ${auth.kind} ${body.kind}`,
      };
    } else if (lane < 0.76) {
      const auth = authHeaders(r, keys, '/mcp');
      const params = { name: pick(r, ['search', 'read_file', 'sleep', 'nope', '']), arguments: { query: 'x' } };
      const base = pick(r, [
        { jsonrpc: '2.0', id: int(r, 0, 1e6), method: 'tools/call', params },
        { jsonrpc: '2.0', id: 'x', method: 'tools/list', params: {} },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
        { jsonrpc: '1.0', id: null, method: 'initialize', params: {} },
      ]);
      const body = hostileJson(base as Record<string, unknown>, r);
      const text = r() < 0.1 ? `[${Array.from({ length: int(r, 1, 150) }, () => JSON.stringify(base)).join(',')}]` : body.text;
      const headers: Record<string, string> = {
        ...auth.headers,
        'content-type': r() < 0.9 ? 'application/json' : 'text/plain',
        accept: r() < 0.9 ? 'application/json, text/event-stream' : 'text/html',
        ...runHeaders(r, keys),
      };
      if (r() < 0.1) headers['mcp-session-id'] = pick(r, ['nope', '', 'x'.repeat(500)]);
      if (r() < 0.05) headers['mcp-protocol-version'] = '1999-01-01';
      const method = r() < 0.9 ? 'POST' : pick(r, ['GET', 'DELETE', 'PUT']);
      yield {
        method,
        path: `/mcp/${r() < 0.9 ? keys.mcpServer : pick(r, ['nope', '%zz', 'demo/x', ''])}`,
        headers,
        body: Buffer.from(text),
        kind: `mcp ${auth.kind} ${body.kind}`,
      };
    } else if (lane < 0.88) {
      const path = pick(r, ADMIN_PATHS);
      const token: Record<string, string> =
        r() < 0.5
          ? { authorization: `Bearer ${keys.adminToken}` }
          : pick<Record<string, string>>(r, [{}, { authorization: `Bearer ${keys.agentKey}` }, { authorization: 'Bearer x' }]);
      const body = hostileJson({ scope: pick(r, ['agent:', 'nope:x', 'x'.repeat(3000), '']), reason: 'fuzz', state: pick(r, ['ALARM', 'bad']) }, r);
      const method = pick(r, ['POST', 'GET', 'DELETE', 'PUT']);
      // A valid command body could legitimately kill or move things: every admin body here is hostile.
      const hostile =
        body.kind === 'wrong-type' || body.kind === 'bad-model' || body.kind === 'bad-options' || body.kind === 'bad-tools' || body.kind === 'bad-message'
          ? { ...body, text: `{"scope":${JSON.stringify(wrongValue(r))}}` }
          : body;
      yield {
        method,
        path: `${path}${r() < 0.2 ? `?limit=${pick(r, ['-1', 'x', '1e9', ''])}&from=${pick(r, ['x', '-5', '99999999999999999'])}` : ''}`,
        headers: { ...token, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : Buffer.from(hostile.text),
        kind: `admin ${hostile.kind}`,
      };
    } else {
      const path = pick(r, [
        '/metrics',
        '/healthz',
        '/readyz',
        '/v1/models',
        `/v1/models/${pick(r, ['sim-small', 'nope', '%ff', '%', '..%2f'])}`,
        '/',
        '/v2/x',
        '/%00',
        `/${'a'.repeat(3000)}`,
        '/console/../admin/kill',
      ]);
      const method = r() < 0.8 ? 'GET' : pick(r, ['POST', 'DELETE', 'HEAD', 'OPTIONS']);
      const auth = authHeaders(r, keys, path);
      yield {
        method,
        path,
        headers: { ...auth.headers, ...(r() < 0.1 ? { 'x-junk': 'y'.repeat(int(r, 1, 6000)) } : {}) },
        body: method === 'POST' ? Buffer.from(hostileJson({}, r).text) : undefined,
        kind: `other ${path.split('/')[1] ?? ''}`,
      };
    }
  }
}
