import type { Command } from 'commander';

/**
 * `fmguard demo-tools`: the built-in demo tool server as a process of its own, over stdio (for a
 * `stdio` tool server entry: `{ kind: stdio, command: fmguard, args: [demo-tools] }`) or over
 * MCP Streamable HTTP (for an `http` entry).
 */
export function registerMcpCommands(program: Command): void {
  program
    .command('demo-tools')
    .description('Run the demo MCP tool server (search, read_file, write_file, delete_file, send_email, http_get, sleep) over an in-memory world')
    .option('--http', 'serve MCP Streamable HTTP instead of stdio')
    .option('--port <port>', 'HTTP port', '8788')
    .option('--host <host>', 'HTTP host', '127.0.0.1')
    .option('--json', 'with --http: print the startup line as JSON')
    .action(async (options: { http?: boolean; port: string; host: string; json?: boolean }) => {
      const { serveDemoToolsHttp, serveDemoToolsStdio } = await import('../demo/tools/index.ts');
      if (!options.http) return serveDemoToolsStdio(); // stdout is the protocol channel: print nothing
      const server = await serveDemoToolsHttp({ port: Number(options.port), host: options.host });
      console.log(options.json ? JSON.stringify({ listening: server.url }) : `demo tools on ${server.url}`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
