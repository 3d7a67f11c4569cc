// Child process for the two-process approvals test: repeatedly makes the identical guarded call and,
// when it is refused, approves the pending request itself. Prints the ids it consumed.
import { approve, checkApproval } from '../../../src/approvals/gate.ts';
import { createSqliteApprovalStore } from '../../../src/backends/sqlite/approvals.ts';

const [path, name, iterationsText] = process.argv.slice(2);
const store = createSqliteApprovalStore({ path });
const consumed: string[] = [];
for (let i = 0; i < Number(iterationsText); i++) {
  const result = await checkApproval({ store, run: 'r1', agent: 'a', tool: 'demo.pay', args: { amount: 20 }, now: Date.now(), ttlMs: 60_000 });
  if (result.ok) consumed.push(result.request.id);
  else if (result.request.status === 'pending') await approve({ store, id: result.request.id, by: name });
}
await store.close();
process.stdout.write(JSON.stringify({ consumed }));
