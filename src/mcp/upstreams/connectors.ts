import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Connection } from './client-upstream.ts';
import { createNodeFetch } from './node-fetch.ts';

const CLIENT_INFO = { name: 'fmguard-mcp-gateway', version: '0.1.0' };

/** How long the MCP handshake with a tool server may take. */
export const CONNECT_TIMEOUT_MS = 10_000;

async function handshake(client: Client, transport: Parameters<Client['connect']>[0], close: () => Promise<void>): Promise<void> {
  try {
    await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** An in-process server (the built-in demo tools) through the SDK's in-memory transport. */
export async function connectInProcess(makeServer: () => Server): Promise<Connection> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = makeServer();
  await server.connect(serverSide);
  const client = new Client(CLIENT_INFO);
  const close = async () => {
    await client.close();
    await server.close();
  };
  await handshake(client, clientSide, close);
  return { client, close };
}

/** A remote server over MCP Streamable HTTP, with the configured headers (credentials) on every request. */
export async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Connection> {
  const http = createNodeFetch();
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: http.fetch });
  const client = new Client(CLIENT_INFO);
  const close = async () => {
    // Ends the upstream session politely; a server that is gone just fails the DELETE.
    await transport.terminateSession().catch(() => {});
    await client.close();
    http.close();
  };
  await handshake(client, transport, close);
  return { client, close };
}

export interface StdioSpec {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Keeps the last `limit` characters written to a stream. */
export class Tail {
  private text = '';
  constructor(private readonly limit = 8192) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  get value(): string {
    return this.text;
  }
}

/**
 * A server process spawned over stdio. Its stderr is kept (not inherited: the gateway writes
 * nothing to its own output) for the upstream's status. Closing ends stdin, then SIGTERM, then SIGKILL.
 */
export async function connectStdio(spec: StdioSpec, stderr: Tail): Promise<Connection> {
  const transport = new StdioClientTransport({ command: spec.command, args: spec.args, env: spec.env, cwd: spec.cwd, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const client = new Client(CLIENT_INFO);
  const close = () => client.close();
  await handshake(client, transport, close);
  return { client, pid: transport.pid ?? undefined, close };
}
