import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * The tools a `builtin` tool server offers (`toolServers: { demo: { kind: builtin } }`): names,
 * descriptions and input schemas, as MCP lists them. Declared here, apart from what they do
 * (src/demo/tools/tools.ts), because the policy engine needs the schemas wherever a guard is built
 * (so policies can test typed arguments), and the SDK must not load the demo tools themselves.
 */
export const MAX_SLEEP_MS = 600_000;
const PATH = { type: 'string', pattern: '^/', maxLength: 512, description: 'An absolute path in the demo world, e.g. /docs/readme.md' } as const;

export const BUILTIN_TOOLS = {
  search: {
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
  readFile: {
    name: 'read_file',
    title: 'Read a file',
    description: 'Read a file of the demo world.',
    inputSchema: { type: 'object', properties: { path: PATH }, required: ['path'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  writeFile: {
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
  deleteFile: {
    name: 'delete_file',
    title: 'Delete a file',
    description: 'Delete a file of the demo world.',
    inputSchema: { type: 'object', properties: { path: PATH }, required: ['path'], additionalProperties: false },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  sendEmail: {
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
  httpGet: {
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
  sleep: {
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
} satisfies Record<string, Tool>;

/**
 * A builtin server's tools as the policy engine wants them (`ToolServerSpec`: names and input
 * schemas), so policies on a `builtin` server can test typed arguments without listing the tools
 * in the config.
 */
export function builtinToolServerSpec(server: string): { name: string; tools: Array<{ name: string; inputSchema: Record<string, unknown> }> } {
  return {
    name: server,
    tools: Object.values(BUILTIN_TOOLS as Record<string, Tool>).map((t) => ({ name: t.name, inputSchema: t.inputSchema as Record<string, unknown> })),
  };
}
