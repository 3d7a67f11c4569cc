import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { FmguardConfig } from '../../config/resolve.ts';
import { createDemoToolServer } from '../../demo/tools/server.ts';
import { createDemoWorld, type DemoWorld } from '../../demo/tools/world.ts';
import type { BackoffOptions } from './backoff.ts';
import { ClientUpstream } from './client-upstream.ts';
import { connectHttp, connectInProcess, connectStdio, Tail } from './connectors.ts';
import type { Upstream } from './upstream.ts';

export interface UpstreamBuildOptions {
  /** The world of the built-in demo tool server; default a fresh one per `builtin` server. */
  demoWorld?: DemoWorld;
  /** The in-process server a `builtin` entry runs; default the demo tool server. */
  builtin?: (name: string) => Server;
  backoff?: BackoffOptions;
}

/** One upstream per configured tool server. Nothing connects until first use. */
export function upstreamsFromConfig(config: FmguardConfig, options: UpstreamBuildOptions = {}): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const [name, spec] of Object.entries(config.toolServers)) {
    switch (spec.kind) {
      case 'builtin': {
        const world = options.demoWorld ?? createDemoWorld();
        const make = options.builtin ? () => options.builtin!(name) : () => createDemoToolServer({ world });
        out.set(name, new ClientUpstream({ name, kind: 'builtin', connect: () => connectInProcess(make), backoff: options.backoff }));
        break;
      }
      case 'http':
        out.set(name, new ClientUpstream({ name, kind: 'http', connect: () => connectHttp(spec.url, spec.headers), backoff: options.backoff }));
        break;
      case 'stdio': {
        const stderr = new Tail();
        out.set(
          name,
          new ClientUpstream({
            name,
            kind: 'stdio',
            connect: () => connectStdio({ command: spec.command, args: spec.args, env: spec.env }, stderr),
            eager: true,
            backoff: options.backoff,
            stderrTail: () => stderr.value,
          }),
        );
        break;
      }
    }
  }
  return out;
}
