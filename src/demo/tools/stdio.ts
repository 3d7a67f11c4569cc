import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createDemoToolServer } from './server.ts';
import { createDemoWorld, type DemoWorld } from './world.ts';

/**
 * Serve the demo tools over this process's stdin/stdout (for a gateway to spawn). Events go to
 * stderr as JSON lines: that is how a test sees a cancellation arrive inside this process. The
 * process exits when stdin closes: a tool server must not outlive its gateway.
 */
export async function serveDemoToolsStdio(world: DemoWorld = createDemoWorld()): Promise<void> {
  world.onEvent = (event) => {
    process.stderr.write(`${JSON.stringify({ pid: process.pid, ...event })}\n`);
  };
  await createDemoToolServer({ world }).connect(new StdioServerTransport());
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
}
