import { CONFIG_OPTION_HELP } from './open.ts';
import { formatTable, JSON_HELP } from './table.ts';
import type { Command } from 'commander';
import type { AuditEventType, AuditSink } from '../audit/index.ts';
import type { StoredEvent } from '../store/audit.ts';
import type { FmguardConfig } from '../config/resolve.ts';

interface QueryOptions {
  config?: string;
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
  const withSink = async <T>(file: string | undefined, fn: (sink: AuditSink, config: FmguardConfig) => Promise<T>) => {
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
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .description('The newest events, oldest first')
    .option('-n, --lines <n>', 'how many', '20')
    .option('--json', JSON_HELP)
    .action(async (options: { config?: string; lines: string; json?: boolean }) => {
      const { emit } = await import('./table.ts');
      await withSink(options.config, async (sink) => {
        const events = await sink.tail(Number(options.lines));
        emit(options.json, events, () => eventTable(events));
      });
    });

  audit
    .command('query')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--run <id>')
    .option('--agent <name>')
    .option('--tenant <name>')
    .option('--code <code>', 'a stop code')
    .option('--type <type>', 'an event type, e.g. call.refused')
    .option('--since <time>', 'ISO time, epoch ms, or 30m / 2h / 1d ago')
    .option('--until <time>')
    .option('--limit <n>', 'how many', '100')
    .option('--json', JSON_HELP)
    .description('Events matching every filter given, oldest first')
    .action(async (options: QueryOptions) => {
      const { emit } = await import('./table.ts');
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
        emit(options.json, events, () => eventTable(events));
      });
    });

  audit
    .command('verify')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--anchor <file>', "an anchor file of signed chain heads: the log must still hold each chain's latest one")
    .option('--json', JSON_HELP)
    .description(
      "Walk the hash chain and name the first event that was changed, removed or reordered; report gaps in any writer's numbering. Exit 0 intact, 1 tampered or an undeclared gap, 2 intact but events were dropped (declared by audit.gap events)",
    )
    .action(async (options: { config?: string; anchor?: string; json?: boolean }) => {
      const { formatVerifyResult, readAnchors, verifyAnchored } = await import('../audit/index.ts');
      const anchors = options.anchor ? await readAnchors(options.anchor) : undefined;
      await withSink(options.config, async (sink, config) => {
        const result = await verifyAnchored(sink, config.audit.key, anchors);
        const { emit } = await import('./table.ts');
        emit(options.json, result, () => formatVerifyResult(result));
        if (!result.ok) process.exitCode = 1;
        else if ((result.gaps ?? []).length > 0) process.exitCode = 2;
      });
    });

  audit
    .command('prune')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--older-than <duration>', 'prune events older than this (default: audit.retention.maxAge)')
    .option('--json', JSON_HELP)
    .description('Delete the oldest audit events and keep a signed checkpoint of the last one, so verify starts there')
    .action(async (options: { config?: string; olderThan?: string; json?: boolean }) => {
      const { createAuditPruner } = await import('../audit/index.ts');
      const { parseDuration } = await import('../config/duration.ts');
      await withSink(options.config, async (sink, config) => {
        const maxAgeMs = options.olderThan !== undefined ? parseDuration(options.olderThan) : config.audit.retention?.maxAge;
        if (maxAgeMs === undefined || !(maxAgeMs > 0)) throw new Error('--older-than: give a duration such as 30d (or set audit.retention.maxAge)');
        if (!config.audit.key) throw new Error('checkpoints are signed: set audit.key or FMGUARD_AUDIT_KEY');
        const { systemClock } = await import('../core/clock.ts');
        const pruner = createAuditPruner({ sink, maxAgeMs, key: config.audit.key, anchorPath: config.audit.anchor?.path, clock: systemClock });
        const results = await pruner.pruneNow();
        const { emit, formatTable } = await import('./table.ts');
        emit(options.json, results, () =>
          formatTable(
            ['chain', 'pruned', 'checkpoint seq', 'checkpoint hash'],
            results.map(({ pruned, checkpoint }) => [
              checkpoint.chain === '' ? 'chain' : `replica ${checkpoint.chain}`,
              pruned,
              checkpoint.seq,
              checkpoint.hash.slice(0, 16),
            ]),
            'nothing to prune',
          ),
        );
      });
    });
}

/** Audit events as a table: the columns every event has, then what the event says beyond them. */
function eventTable(events: readonly StoredEvent[]): string {
  return formatTable(
    ['seq', 'time', 'type', 'code', 'agent', 'run', 'resource', 'cost usd', 'details'],
    events.map((e) => [
      e.seq,
      new Date(e.time).toISOString(),
      e.type,
      e.code,
      e.agent,
      e.run,
      e.resource,
      e.costUsd === undefined ? undefined : Number(e.costUsd.toPrecision(6)),
      e.details && Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : undefined,
    ]),
    'no events',
  );
}
