import { DEFAULT_CONFIG } from './open.ts';
import type { Command } from 'commander';
import type { AuditEventType, AuditSink } from '../audit/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';

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
  const withSink = async <T>(file: string, fn: (sink: AuditSink, config: FmguardConfig) => Promise<T>) => {
    const { withStore } = await import('./open.ts');
    const { openAuditSink } = await import('../wiring/services.ts');
    return withStore(file, async (store, config) => {
      const sink = openAuditSink(config, store);
      if (!sink) throw new Error('the audit log is turned off in this config (audit.sink: none)');
      try {
        return await fn(sink, config);
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
    .option('--anchor <file>', "an anchor file of signed chain heads: the log must still hold each chain's latest one")
    .description(
      "Walk the hash chain and name the first event that was changed, removed or reordered; report gaps in any writer's numbering. Exit 0 intact, 1 tampered or an undeclared gap, 2 intact but events were dropped (declared by audit.gap events)",
    )
    .action(async (options: { config: string; anchor?: string }) => {
      const { formatVerifyResult, readAnchors, verifyAnchored } = await import('../audit/index.ts');
      const anchors = options.anchor ? await readAnchors(options.anchor) : undefined;
      await withSink(options.config, async (sink, config) => {
        const result = await verifyAnchored(sink, config.audit.key, anchors);
        console.log(formatVerifyResult(result));
        if (!result.ok) process.exitCode = 1;
        else if ((result.gaps ?? []).length > 0) process.exitCode = 2;
      });
    });

  audit
    .command('prune')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--older-than <duration>', 'prune events older than this (default: audit.retention.maxAge)')
    .description('Delete the oldest audit events and keep a signed checkpoint of the last one, so verify starts there')
    .action(async (options: { config: string; olderThan?: string }) => {
      const { createAuditPruner } = await import('../audit/index.ts');
      const { parseDuration } = await import('../config/duration.ts');
      await withSink(options.config, async (sink, config) => {
        const maxAgeMs = options.olderThan !== undefined ? parseDuration(options.olderThan) : config.audit.retention?.maxAge;
        if (maxAgeMs === undefined || !(maxAgeMs > 0)) throw new Error('--older-than: give a duration such as 30d (or set audit.retention.maxAge)');
        if (!config.audit.key) throw new Error('checkpoints are signed: set audit.key or FMGUARD_AUDIT_KEY');
        const { systemClock } = await import('../core/clock.ts');
        const pruner = createAuditPruner({ sink, maxAgeMs, key: config.audit.key, anchorPath: config.audit.anchor?.path, clock: systemClock });
        const results = await pruner.pruneNow();
        if (results.length === 0) console.log('nothing to prune');
        for (const { pruned, checkpoint } of results) {
          console.log(
            `${checkpoint.chain === '' ? 'chain' : `replica ${checkpoint.chain}`}: pruned ${pruned} events; checkpoint #${checkpoint.seq} ${checkpoint.hash.slice(0, 16)}`,
          );
        }
      });
    });
}
