import { DEFAULT_CONFIG } from './open.ts';
import type { Command } from 'commander';
import type { AuditEventType, AuditSink } from '../audit/index.ts';

interface QueryOptions {
  config: string;
  run?: string;
  agent?: string;
  tenant?: string;
  code?: string;
  type?: string;
  since?: string;
  until?: string;
  limit: string;
  json?: boolean;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The hash-chained audit log');
  const withSink = async <T>(file: string, fn: (sink: AuditSink) => Promise<T>) => {
    const { withStore } = await import('./open.ts');
    const { openAuditSink } = await import('../wiring/services.ts');
    return withStore(file, async (store, config) => {
      const sink = openAuditSink(config, store);
      if (!sink) throw new Error('the audit log is turned off in this config (audit.sink: none)');
      try {
        return await fn(sink);
      } finally {
        await sink.close();
      }
    });
  };

  audit
    .command('tail')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('-n, --lines <n>', 'how many', '20')
    .action(async (options: { config: string; lines: string }) => {
      const { formatEvents } = await import('../audit/index.ts');
      await withSink(options.config, async (sink) => console.log(formatEvents(await sink.tail(Number(options.lines))) || 'no events'));
    });

  audit
    .command('query')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--run <id>')
    .option('--agent <name>')
    .option('--tenant <name>')
    .option('--code <code>', 'a stop code')
    .option('--type <type>', 'an event type, e.g. call.refused')
    .option('--since <time>', 'ISO time, epoch ms, or 30m / 2h / 1d ago')
    .option('--until <time>')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'print JSON')
    .action(async (options: QueryOptions) => {
      const { formatEvents } = await import('../audit/index.ts');
      const { isStopCode } = await import('../core/codes.ts');
      const { parseTime } = await import('./open.ts');
      if (options.code !== undefined && !isStopCode(options.code)) throw new Error(`--code: unknown stop code "${options.code}"`);
      await withSink(options.config, async (sink) => {
        const events = await sink.query({
          run: options.run,
          agent: options.agent,
          tenant: options.tenant,
          code: options.code as never,
          type: options.type as AuditEventType | undefined,
          from: parseTime(options.since),
          to: parseTime(options.until),
          limit: Number(options.limit),
          order: 'asc',
        });
        console.log(options.json ? JSON.stringify(events, null, 2) : formatEvents(events) || 'no events');
      });
    });

  audit
    .command('verify')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .description('Walk the hash chain and name the first event that was changed, removed or reordered')
    .action(async (options: { config: string }) => {
      const { formatVerifyResult } = await import('../audit/index.ts');
      await withSink(options.config, async (sink) => {
        const result = await sink.verify();
        console.log(formatVerifyResult(result));
        if (!result.ok) process.exitCode = 1;
      });
    });
}
