import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { DemoSleep, DemoWorld } from './world.ts';

/** A demo tool: its MCP definition and what it does to the world. */
export interface DemoTool {
  definition: Tool;
  run(world: DemoWorld, args: Record<string, unknown>, context: { signal: AbortSignal }): Promise<CallToolResult> | CallToolResult;
}

const MAX_SLEEP_MS = 600_000;
const PATH = { type: 'string', pattern: '^/', maxLength: 512, description: 'An absolute path in the demo world, e.g. /docs/readme.md' } as const;

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

function failure(value: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: value }] };
}

function snippet(body: string, query: string): string {
  const i = body.toLowerCase().indexOf(query);
  const start = Math.max(0, i - 40);
  return body
    .slice(start, i + query.length + 40)
    .replace(/\s+/g, ' ')
    .trim();
}

const search: DemoTool = {
  definition: {
    name: 'search',
    title: 'Search',
    description: 'Search the files and web pages of the demo world for a phrase (case-insensitive).',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 200 },
        limit: { type: 'integer', minimum: 1, maximum: 50, description: 'Most results to return (default 10).' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  run(world, args) {
    const query = String(args.query).toLowerCase();
    const limit = typeof args.limit === 'number' ? args.limit : 10;
    const hits: string[] = [];
    for (const [where, body] of [...world.files, ...[...world.pages].map(([url, p]) => [url, p.body] as const)]) {
      if (hits.length >= limit) break;
      if (where.toLowerCase().includes(query) || body.toLowerCase().includes(query)) hits.push(`${where}: ${snippet(body, query)}`);
    }
    return text(hits.length ? hits.join('\n') : `no results for "${args.query}"`);
  },
};

const readFile: DemoTool = {
  definition: {
    name: 'read_file',
    title: 'Read a file',
    description: 'Read a file of the demo world.',
    inputSchema: { type: 'object', properties: { path: PATH }, required: ['path'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  run(world, args) {
    const body = world.files.get(String(args.path));
    return body === undefined ? failure(`no such file: ${args.path}`) : text(body);
  },
};

const writeFile: DemoTool = {
  definition: {
    name: 'write_file',
    title: 'Write a file',
    description: 'Create or replace a file of the demo world.',
    inputSchema: {
      type: 'object',
      properties: { path: PATH, content: { type: 'string', maxLength: 1_048_576 } },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  run(world, args) {
    const content = String(args.content);
    world.files.set(String(args.path), content);
    return text(`wrote ${Buffer.byteLength(content)} bytes to ${args.path}`);
  },
};

const deleteFile: DemoTool = {
  definition: {
    name: 'delete_file',
    title: 'Delete a file',
    description: 'Delete a file of the demo world.',
    inputSchema: { type: 'object', properties: { path: PATH }, required: ['path'], additionalProperties: false },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  run(world, args) {
    return world.files.delete(String(args.path)) ? text(`deleted ${args.path}`) : failure(`no such file: ${args.path}`);
  },
};

const sendEmail: DemoTool = {
  definition: {
    name: 'send_email',
    title: 'Send an email',
    description: "Send an email (it lands in the demo world's outbox; nothing is sent).",
    inputSchema: {
      type: 'object',
      properties: {
        to: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 },
        subject: { type: 'string', maxLength: 998 },
        body: { type: 'string', maxLength: 100_000 },
      },
      required: ['to', 'subject', 'body'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  run(world, args) {
    const id = `msg_${world.outbox.length + 1}`;
    world.outbox.push({ id, to: String(args.to), subject: String(args.subject), body: String(args.body), at: Date.now() });
    return text(`sent ${id} to ${args.to}`);
  },
};

const httpGet: DemoTool = {
  definition: {
    name: 'http_get',
    title: 'Fetch a web page',
    description: 'Fetch a URL. The demo world has canned pages only; there is no network.',
    inputSchema: {
      type: 'object',
      properties: { url: { type: 'string', pattern: '^https?://', maxLength: 2048 } },
      required: ['url'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  run(world, args) {
    const found = world.pages.get(String(args.url));
    if (!found) return failure(`404 Not Found: ${args.url} (the demo world has no page there)`);
    const result = text(found.body);
    if (found.status >= 400) result.isError = true;
    return result;
  },
};

const sleep: DemoTool = {
  definition: {
    name: 'sleep',
    title: 'Sleep',
    description: 'Wait for a number of milliseconds, then answer. Stops at once when the call is cancelled.',
    inputSchema: {
      type: 'object',
      properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_SLEEP_MS } },
      required: ['ms'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  run(world, args, { signal }) {
    const ms = Number(args.ms);
    const record: DemoSleep = { id: world.sleeps.length + 1, ms, outcome: 'running', elapsedMs: 0 };
    world.sleeps.push(record);
    world.onEvent?.({ type: 'sleep.started', sleep: { ...record } });
    const started = performance.now();
    return new Promise<CallToolResult>((resolve) => {
      const finish = (outcome: 'completed' | 'cancelled', reason?: string) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        record.outcome = outcome;
        record.elapsedMs = Math.round(performance.now() - started);
        if (reason !== undefined) record.reason = reason;
        world.onEvent?.({ type: 'sleep.ended', sleep: { ...record } });
        resolve(outcome === 'completed' ? text(`slept ${ms} ms`) : failure(`cancelled after ${record.elapsedMs} ms`));
      };
      const onAbort = () => finish('cancelled', String(signal.reason ?? 'cancelled'));
      const timer = setTimeout(() => finish('completed'), ms);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** Every demo tool, by name. */
export const DEMO_TOOLS: ReadonlyMap<string, DemoTool> = new Map(
  [search, readFile, writeFile, deleteFile, sendEmail, httpGet, sleep].map((tool) => [tool.definition.name, tool]),
);

/**
 * The demo server's tools as the policy engine wants them (`ToolServerSpec`: names and input
 * schemas), so policies on a `builtin` server can test typed arguments without listing the tools
 * in the config.
 */
export function demoToolServerSpec(server: string): { name: string; tools: Array<{ name: string; inputSchema: Record<string, unknown> }> } {
  return {
    name: server,
    tools: [...DEMO_TOOLS.values()].map((t) => ({ name: t.definition.name, inputSchema: t.definition.inputSchema as Record<string, unknown> })),
  };
}
