import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { BUILTIN_TOOLS, builtinToolServerSpec } from '../../config/builtin-tools.ts';
import type { DemoSleep, DemoWorld } from './world.ts';

/** A demo tool: its MCP definition and what it does to the world. */
export interface DemoTool {
  definition: Tool;
  run(world: DemoWorld, args: Record<string, unknown>, context: { signal: AbortSignal }): Promise<CallToolResult> | CallToolResult;
}

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
  definition: BUILTIN_TOOLS.search,
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
  definition: BUILTIN_TOOLS.readFile,
  run(world, args) {
    const body = world.files.get(String(args.path));
    return body === undefined ? failure(`no such file: ${args.path}`) : text(body);
  },
};

const writeFile: DemoTool = {
  definition: BUILTIN_TOOLS.writeFile,
  run(world, args) {
    const content = String(args.content);
    world.files.set(String(args.path), content);
    return text(`wrote ${Buffer.byteLength(content)} bytes to ${args.path}`);
  },
};

const deleteFile: DemoTool = {
  definition: BUILTIN_TOOLS.deleteFile,
  run(world, args) {
    return world.files.delete(String(args.path)) ? text(`deleted ${args.path}`) : failure(`no such file: ${args.path}`);
  },
};

const sendEmail: DemoTool = {
  definition: BUILTIN_TOOLS.sendEmail,
  run(world, args) {
    const id = `msg_${world.outbox.length + 1}`;
    world.outbox.push({ id, to: String(args.to), subject: String(args.subject), body: String(args.body), at: Date.now() });
    return text(`sent ${id} to ${args.to}`);
  },
};

const httpGet: DemoTool = {
  definition: BUILTIN_TOOLS.httpGet,
  run(world, args) {
    const found = world.pages.get(String(args.url));
    if (!found) return failure(`404 Not Found: ${args.url} (the demo world has no page there)`);
    const result = text(found.body);
    if (found.status >= 400) result.isError = true;
    return result;
  },
};

const sleep: DemoTool = {
  definition: BUILTIN_TOOLS.sleep,
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

/** The demo server's tools as the policy engine wants them (the builtin server's declarations). */
export const demoToolServerSpec = builtinToolServerSpec;
