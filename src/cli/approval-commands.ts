import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';
import type { Command } from 'commander';

export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('Human approvals for tool calls');
  approvals
    .command('list')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--status <status>', 'pending | approved | denied | expired | consumed', 'pending')
    .option('--run <id>')
    .option('--json', JSON_HELP)
    .action(async (options: { config?: string; status: string; run?: string; json?: boolean }) => {
      const { listApprovals } = await import('../approvals/index.ts');
      const { withStore } = await import('./open.ts');
      await withStore(options.config, async (store) => {
        const list = await listApprovals({ store: store.approvals, status: options.status as never, run: options.run });
        const { emit, formatTable, iso } = await import('./table.ts');
        emit(options.json, list, () =>
          formatTable(
            ['id', 'status', 'agent', 'tool', 'run', 'expires', 'args'],
            list.map((r) => [r.id, r.status, r.agent, r.tool, r.run, iso(r.expiresAt), JSON.stringify(r.args)]),
            `no ${options.status} approvals`,
          ),
        );
      });
    });
  for (const verb of ['approve', 'deny'] as const) {
    approvals
      .command(verb)
      .argument('<id>', 'the approval request id')
      .option('-c, --config <file>', CONFIG_OPTION_HELP)
      .option('--by <name>', 'who decides', process.env.USER ?? 'cli')
      .option('--reason <text>')
      .option('--json', JSON_HELP)
      .action(async (id: string, options: { config?: string; by: string; reason?: string; json?: boolean }) => {
        const { approve, deny } = await import('../approvals/index.ts');
        const { withStore } = await import('./open.ts');
        await withStore(options.config, async (store) => {
          const decide = verb === 'approve' ? approve : deny;
          const result = await decide({ store: store.approvals, id, by: options.by, reason: options.reason });
          if (!result.ok)
            throw new Error(result.reason === 'unknown' ? `no approval request ${id}` : `approval ${id} is ${result.request.status}, not pending`);
          const { emit } = await import('./table.ts');
          emit(options.json, result.request, () => `${id}: ${result.request.status} by ${options.by}`);
        });
      });
  }
}
