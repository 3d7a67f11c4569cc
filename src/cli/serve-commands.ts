import { basename } from 'node:path';

import type { Command } from 'commander';
import type { FmguardConfig } from '../config/load.ts';
import type { ToolCallViolation } from '../gateway/tool-calls.ts';
import { CONFIG_OPTION_HELP, EXAMPLE_CONFIG } from './config-file.ts';
import { JSON_HELP } from './table.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: "${value}"`);
  return n;
}

function violationMode(value: string): ToolCallViolation {
  if (value !== 'refuse' && value !== 'strip') throw new Error(`--tool-call-violation: expected "refuse" or "strip", got "${value}"`);
  return value;
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function usageLines(url: string, config: FmguardConfig, file: string): string[] {
  const model = Object.keys(config.models)[0] ?? 'MODEL';
  // Only the shipped example's key is printed: it is a demo key, published in the repository.
  // For any other config the key is a secret, and the lines show a placeholder.
  const isExample = basename(file) === EXAMPLE_CONFIG;
  const demo = isExample ? [...config.keyIndex.keys()][0] : undefined;
  const key = demo ?? '<agent key>';
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] });
  const lines: string[] = [];
  if (demo) lines.push(`demo agent key (from the example config): ${demo}`);
  lines.push(`curl:   curl ${url}/v1/chat/completions -H 'authorization: Bearer ${key}' -H 'content-type: application/json' -d '${body}'`);
  lines.push(`openai: new OpenAI({ baseURL: '${url}/v1', apiKey: '${key}' })  // then client.chat.completions.create({ model: '${model}', messages })`);
  if (config.server.adminToken) {
    // The example's admin token is a published demo token (for a gateway on loopback): printed. Any other is a secret.
    const token = isExample ? config.server.adminToken : '<server.adminToken>';
    lines.push(`admin:  curl ${url}/admin/runs -H 'authorization: Bearer ${token}'   (API reference: ${url}/admin/openapi.json; console: ${url}/console)`);
  } else lines.push('admin:  off (set server.adminToken to turn on the admin API and the console)');
  return lines;
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('Start the OpenAI-compatible gateway: every safeguard applies to agents pointed at it')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('-p, --port <n>', 'port (default: server.port from the config, else 8787)', port)
    .option('--host <host>', 'interface to listen on (default: server.host from the config, else 127.0.0.1)')
    .option(
      '--tool-call-violation <mode>',
      'a forbidden or looping tool call in a response: refuse | strip (default: server.toolCallViolation, else refuse)',
      violationMode,
    )
    .option('--json', 'print the startup line as one JSON object (url, config file, store) instead of text')
    .action(async (options: { config?: string; port?: number; host?: string; toolCallViolation?: ToolCallViolation; json?: boolean }) => {
      const { findConfigFile } = await import('./config-file.ts');
      const { loadCheckedConfig } = await import('../wiring/check-config.ts');
      const { createGateway } = await import('../wiring/gateway.ts');
      const { createGuard } = await import('../wiring/guard.ts');
      const { openAccessLog } = await import('../wiring/access-log.ts');
      const file = findConfigFile(options.config);
      // The same checks as `fmguard config check`, so a file one accepts the other accepts.
      const config = loadCheckedConfig(file);
      options.toolCallViolation ??= config.server.toolCallViolation ?? 'refuse';
      // The guard builds every provider the config names (and closes their pools on close()).
      const guard = createGuard({ config, configFile: file, onError: (error) => console.error(`fmguard: background error: ${describe(error)}`) });
      // The access log: one JSON line per request, on stdout unless `server.accessLog` says otherwise.
      const accessLog = openAccessLog(config.server.accessLog, 'stdout');
      const gateway = createGateway({
        guard,
        accessLog: accessLog?.sink ?? (() => {}),
        toolCallViolation: options.toolCallViolation,
        onError: (error, where) =>
          console.error(`fmguard: internal error on ${where.method} ${where.path}${where.runId ? ` (run ${where.runId})` : ''}: ${describe(error)}`),
      });
      const address = await gateway.listen(options.port ?? config.server.port ?? 8787, options.host ?? config.server.host ?? '127.0.0.1');
      if (options.json) {
        const admin = config.server.adminToken ? `${address.url}/admin` : null;
        console.log(JSON.stringify({ listening: address.url, config: file, store: config.store.kind, toolCallViolation: options.toolCallViolation, admin }));
      } else {
        console.log(
          `fmguard gateway listening on ${address.url} (config ${file}, store ${config.store.kind}, tool-call violations: ${options.toolCallViolation})`,
        );
        for (const line of usageLines(address.url, config, file)) console.log(line);
      }
      const { runs: runRetention, ledger: ledgerRetention, everyMs } = config.retention;
      let pruner: { stop(): void } | undefined;
      if (runRetention || ledgerRetention) {
        const { createRunPruner } = await import('../runtime/retention.ts');
        const started = createRunPruner({
          store: guard.store,
          clock: guard.clock,
          runsMaxAgeMs: runRetention?.maxAge,
          ledgerMaxAgeMs: ledgerRetention?.maxAge,
          everyMs,
          onError: (error) => console.error(`fmguard: retention: ${describe(error)}`),
        });
        started.start();
        pruner = started;
      }

      // SIGHUP: load the config file again (the same checks as `config check`); a bad file is refused and the old config stays.
      const onHangup = () => {
        try {
          const result = guard.reload('SIGHUP');
          const restart = result.restartOnly.length > 0 ? ` (after a restart only: ${result.restartOnly.join(', ')})` : '';
          console.log(`SIGHUP: config reloaded from ${file}; changed: ${result.changed.join(', ') || 'nothing'}${restart}`);
        } catch (error) {
          console.error(`fmguard: SIGHUP: reload refused, the running config stays: ${describe(error)}`);
        }
      };
      process.on('SIGHUP', onHangup);

      const signal = await untilSignal();
      process.off('SIGHUP', onHangup);
      const graceMs = config.server.shutdownGraceMs ?? 5000;
      console.log(`${signal}: closing (requests in flight get ${graceMs} ms)…`);
      pruner?.stop();
      // Answers first (the rest get gateway.shutting_down), then the guard: the audit log is flushed last.
      await gateway.close(graceMs);
      await accessLog?.close();
      await guard.close();
      console.log('fmguard gateway stopped');
      process.exitCode = 0;
    });

  program
    .command('sim')
    .description('Run the simulated model as an OpenAI-compatible HTTP server (an upstream for tests and demos)')
    .option('-p, --port <n>', 'port (0: any free port)', port, 8788)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--scenario <text>', 'default scenario, e.g. "answer", "stall 3", "fail 0.5 503"')
    .option('--tokens-per-second <n>', 'output pace (0: unpaced)', Number)
    .option('--first-token-ms <n>', 'delay before the first chunk', Number)
    .option('--json', JSON_HELP)
    .action(async (options: { port: number; host: string; scenario?: string; tokensPerSecond?: number; firstTokenMs?: number; json?: boolean }) => {
      const { startSimServer } = await import('../providers/simulated/sim-server.ts');
      const server = await startSimServer({
        port: options.port,
        host: options.host,
        model: { scenario: options.scenario, tokensPerSecond: options.tokensPerSecond, firstTokenLatencyMs: options.firstTokenMs },
      });
      console.log(
        options.json
          ? JSON.stringify({ listening: server.url, baseURL: `${server.url}/v1` })
          : `fmguard sim listening on ${server.url} (OpenAI base URL ${server.url}/v1; pick a behaviour per request with [sim:NAME] or the x-sim-scenario header)`,
      );
      const signal = await untilSignal();
      console.log(`${signal}: closing`);
      await server.close();
    });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
