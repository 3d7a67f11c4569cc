import { DEFAULT_CONFIG } from './open.ts';
import type { Command } from 'commander';

export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('Human approvals for tool calls');
  approvals
    .command('list')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .option('--status <status>', 'pending | approved | denied | expired | consumed', 'pending')
    .option('--run <id>')
    .option('--json', 'print JSON')
    .action(async (options: { config: string; status: string; run?: string; json?: boolean }) => {
      const { listApprovals } = await import('../approvals/index.ts');
      const { withStore } = await import('./open.ts');
      await withStore(options.config, async (store) => {
        const list = await listApprovals({ store: store.approvals, status: options.status as never, run: options.run });
        if (options.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log(`no ${options.status} approvals`);
        for (const r of list) {
          console.log(
            `${r.id}\t${r.status}\t${r.agent}\t${r.tool}\trun=${r.run}\texpires=${new Date(r.expiresAt).toISOString()}\targs=${JSON.stringify(r.args)}`,
          );
        }
      });
    });
  for (const verb of ['approve', 'deny'] as const) {
    approvals
      .command(verb)
      .argument('<id>', 'the approval request id')
      .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
      .option('--by <name>', 'who decides', process.env.USER ?? 'cli')
      .option('--reason <text>')
      .action(async (id: string, options: { config: string; by: string; reason?: string }) => {
        const { approve, deny } = await import('../approvals/index.ts');
        const { withStore } = await import('./open.ts');
        await withStore(options.config, async (store) => {
          const decide = verb === 'approve' ? approve : deny;
          const result = await decide({ store: store.approvals, id, by: options.by, reason: options.reason });
          if (!result.ok)
            throw new Error(result.reason === 'unknown' ? `no approval request ${id}` : `approval ${id} is ${result.request.status}, not pending`);
          console.log(`${id}: ${result.request.status} by ${options.by}`);
        });
      });
  }
}
