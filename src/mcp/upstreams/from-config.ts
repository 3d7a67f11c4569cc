import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { FmguardConfig } from '../../config/resolve.ts';
import type { BackoffOptions } from './backoff.ts';
import { ClientUpstream } from './client-upstream.ts';
import { connectHttp, connectInProcess, connectStdio, Tail } from './connectors.ts';
import type { Upstream } from './upstream.ts';

export interface UpstreamBuildOptions {
  /** The in-process server a `builtin` entry runs, one per connection (wiring passes the demo tool server). */
  builtin?: (name: string) => Server;
  backoff?: BackoffOptions;
}

/** One upstream per configured tool server. Nothing connects until first use. */
export function upstreamsFromConfig(config: FmguardConfig, options: UpstreamBuildOptions = {}): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const [name, spec] of Object.entries(config.toolServers)) {
    switch (spec.kind) {
      case 'builtin': {
        const { builtin } = options;
        if (!builtin) throw new TypeError(`toolServers.${name}: a builtin tool server needs its in-process server (the builtin option)`);
        const make = () => builtin(name);
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
